package socketio

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"
)

// roomLog records the OnJoin and OnLeave calls of a server.
type roomLog struct {
	mu    sync.Mutex
	calls []string
	count map[string]int
	ch    chan struct{}
}

func (l *roomLog) add(kind string, n int, rooms []string) {
	l.mu.Lock()
	for _, r := range rooms {
		l.calls = append(l.calls, kind+" "+r)
		l.count[r] += n
	}
	l.mu.Unlock()
	select {
	case l.ch <- struct{}{}:
	default:
	}
}

// waitFor waits until the calls recorded, sorted, are want.
func (l *roomLog) waitFor(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		l.mu.Lock()
		got := slices.Sorted(slices.Values(l.calls))
		l.mu.Unlock()
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-l.ch:
		case <-deadline:
			t.Fatalf("room calls = %q, want %q", got, want)
		}
	}
}

func TestRoomMembershipHooks(t *testing.T) {
	log := &roomLog{count: map[string]int{}, ch: make(chan struct{}, 1)}
	var srv *Server
	cfg := Config{
		OnJoin: func(nsp string, rooms []string) {
			// Called outside the server's locks: the room index is usable.
			for _, r := range rooms {
				if srv.Of(nsp).RoomSize(r) == 0 {
					t.Errorf("OnJoin(%q, %q) before the socket is in the room", nsp, r)
				}
			}
			log.add("join "+nsp, 1, rooms)
		},
		OnLeave: func(nsp string, rooms []string) { log.add("leave "+nsp, -1, rooms) },
	}
	srv, ts := newTestServer(t, cfg)
	ns := srv.Of("/chat")
	joined := make(chan struct{})
	ns.OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		s.Join("a", "b", "a")
		s.Join("b") // already in: no call
		close(joined)
		return nil
	})
	ns.On("leave", func(s *Socket, ev *Event) {
		s.Leave("a", "not-in")
		s.Leave("a")
		ev.Ack()
	})

	c, _ := dialEngine(t, ts)
	c.connect("/chat", "")
	<-joined
	log.waitFor(t, "join /chat a", "join /chat b")
	c.send(`42/chat,1["leave"]`)
	if msg := c.next(); msg != "43/chat,1[]" {
		t.Fatalf("ack = %q", msg)
	}
	log.waitFor(t, "join /chat a", "join /chat b", "leave /chat a")
	c.send("41/chat,")
	log.waitFor(t, "join /chat a", "join /chat b", "leave /chat a", "leave /chat b")
	log.mu.Lock()
	defer log.mu.Unlock()
	for r, n := range log.count {
		if n != 0 {
			t.Errorf("room %q: %d more joins than leaves", r, n)
		}
	}
}

// A socket whose connect is refused leaves the rooms its handler joined.
func TestRoomMembershipHooksRefusedConnect(t *testing.T) {
	log := &roomLog{count: map[string]int{}, ch: make(chan struct{}, 1)}
	srv, ts := newTestServer(t, Config{
		OnJoin:  func(nsp string, rooms []string) { log.add("join", 1, rooms) },
		OnLeave: func(nsp string, rooms []string) { log.add("leave", -1, rooms) },
	})
	srv.Of("/").OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		s.Join("r")
		return &ConnectError{Message: "no"}
	})
	c, _ := dialEngine(t, ts)
	c.send("40")
	c.next()
	log.waitFor(t, "join r", "leave r")
}
