package socketio

// Key names one typed per-socket value. Each Key made by NewKey is a
// distinct slot, even when two share a name, so independent parts of an
// application (authentication, a room service, metrics) can each keep their
// own value on a socket without agreeing on one shared type. Get and Set are
// safe for concurrent use, from any goroutine.
//
// Values stay readable after the socket disconnected (in OnDisconnect, for
// example); they are dropped with the socket.
type Key[T any] struct {
	name string
}

// NewKey returns a new key; name is only used for debugging (String).
func NewKey[T any](name string) *Key[T] {
	return &Key[T]{name: name}
}

// String returns the key's name.
func (k *Key[T]) String() string { return k.name }

// Get returns the value stored on s under k, and whether there is one.
func (k *Key[T]) Get(s *Socket) (T, bool) {
	s.mu.Lock()
	v, ok := s.values[k]
	s.mu.Unlock()
	if !ok {
		var zero T
		return zero, false
	}
	t, _ := v.(T) // a nil interface value is stored as nil
	return t, true
}

// Set stores v on s under k, replacing any previous value.
func (k *Key[T]) Set(s *Socket, v T) {
	s.mu.Lock()
	if s.values == nil {
		s.values = make(map[any]any, 1)
	}
	s.values[k] = v
	s.mu.Unlock()
}

// Delete removes the value stored on s under k, if any.
func (k *Key[T]) Delete(s *Socket) {
	s.mu.Lock()
	delete(s.values, k)
	s.mu.Unlock()
}
