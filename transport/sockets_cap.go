package transport

import (
	"sync"

	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// socketCap counts the open sockets of each user per namespace on this
// instance and refuses those beyond Config.MaxSocketsPerUser. A nil
// *socketCap allows everything.
type socketCap struct {
	max int

	mu     sync.Mutex
	counts map[string]int              // namespace + "\x00" + user id → sockets
	held   map[*socketio.Socket]string // socket → its key, while it holds a slot
}

func newSocketCap(max int) *socketCap {
	return &socketCap{max: max, counts: make(map[string]int), held: make(map[*socketio.Socket]string)}
}

// acquire takes a slot for s, a socket of userID that is connecting, or
// returns ErrTooManySockets. Call it in the connect handler before
// anything else happens. The slot is given back exactly once, by release
// or when the socket's context ends (disconnected, refused later in the
// connect handler, or closed while connecting), whichever comes first.
func (c *socketCap) acquire(s *socketio.Socket, userID string) error {
	if c == nil {
		return nil
	}
	key := s.Namespace() + "\x00" + userID
	c.mu.Lock()
	if _, ok := c.held[s]; ok {
		c.mu.Unlock()
		return nil
	}
	if c.counts[key] >= c.max {
		c.mu.Unlock()
		return ErrTooManySockets.WithMessage("at most %d connections per user; close one first", c.max)
	}
	c.counts[key]++
	c.held[s] = key
	c.mu.Unlock()
	onSocketEnd(s, func() { c.release(s) })
	return nil
}

// release gives back s's slot, if it holds one.
func (c *socketCap) release(s *socketio.Socket) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key, ok := c.held[s]
	if !ok {
		return
	}
	delete(c.held, s)
	if c.counts[key]--; c.counts[key] <= 0 {
		delete(c.counts, key)
	}
}
