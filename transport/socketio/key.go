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
	v, ok := s.values.get(k)
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
	s.values.set(k, v)
	s.mu.Unlock()
}

// Delete removes the value stored on s under k, if any.
func (k *Key[T]) Delete(s *Socket) {
	s.mu.Lock()
	s.values.del(k)
	s.mu.Unlock()
}

// keyValues holds a socket's Key values as a small slice of (key, value)
// pairs: a socket has a handful of them at most, and a slice of a few
// pairs is a fraction of the size of a map. It is guarded by Socket.mu.
type keyValues []keyValue

type keyValue struct {
	key any // a *Key[T]
	val any
}

func (kv keyValues) get(k any) (any, bool) {
	for i := range kv {
		if kv[i].key == k {
			return kv[i].val, true
		}
	}
	return nil, false
}

func (kv *keyValues) set(k, v any) {
	for i := range *kv {
		if (*kv)[i].key == k {
			(*kv)[i].val = v
			return
		}
	}
	if *kv == nil {
		*kv = make(keyValues, 0, 1)
	}
	*kv = append(*kv, keyValue{k, v})
}

func (kv *keyValues) del(k any) {
	s := *kv
	for i := range s {
		if s[i].key == k {
			last := len(s) - 1
			s[i] = s[last]
			s[last] = keyValue{}
			*kv = s[:last]
			if last == 0 {
				*kv = nil
			}
			return
		}
	}
}
