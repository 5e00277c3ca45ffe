package transport_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// A host application's own event handler on /rooms reads the socket's
// room code and user id with RoomSocket.
func TestRoomSocketInHostHandler(t *testing.T) {
	s := newStack(t, options{})
	s.T.SocketIO().Of(rooms.Namespace).On("game:move", func(sock *socketio.Socket, ev *socketio.Event) {
		code, userID, ok := transport.RoomSocket(sock)
		if ev.Ack != nil {
			ev.Ack(map[string]any{"code": code, "userId": userID, "ok": ok})
		}
	})
	host := s.create(t, "Host")
	bob := s.join(t, host.RoomCode, "Bob")
	member(t, s, host)
	bc, _ := member(t, s, bob)
	got := ack(t, bc, "game:move", map[string]int{"x": 1})
	if got["code"] != host.RoomCode || got["userId"] != bob.UserID || got["ok"] != true {
		t.Fatalf("RoomSocket in a host handler = %v, want %s %s", got, host.RoomCode, bob.UserID)
	}
}

// A client that closes its connection right after sending CONNECT never
// leaves its user connected: once the server has ended every connection,
// the member has no presence entry and room:state shows it disconnected.
func TestAbortedConnectLeavesNoPresence(t *testing.T) {
	s := newStack(t, options{presenceTTL: time.Hour}) // no entry may heal by expiring
	host := s.create(t, "Host")
	bob := s.join(t, host.RoomCode, "Bob")
	auth, _ := json.Marshal(map[string]string{"token": bob.Token})
	const attempts = 20
	for range attempts {
		c, err := siotest.Dial(context.Background(), s.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send("40" + rooms.Namespace + "," + string(auth)); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	// Shutdown waits until every connection, and every handler of its
	// sockets, has ended.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.T.SocketIO().Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	members, err := s.Store.MembersAt(ctx, host.RoomCode, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.Sockets != 0 {
			t.Errorf("%s has %d live presence entries after its connections ended", m.DisplayName, m.Sockets)
		}
	}
	snap, err := s.Rooms.State(ctx, host.RoomCode)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range snap.Users {
		if u.IsConnected {
			t.Errorf("room:state shows %s connected after its connections ended", u.DisplayName)
		}
	}
}

// A socket whose room is gone when it refreshes its presence (or when
// the instance sweeps the room) gets room:closed EXPIRED and is
// disconnected, even though no expiry job announced it.
func TestPresenceRefreshOfAGoneRoom(t *testing.T) {
	clock := fakeclock.New(time.Now())
	s := newStack(t, options{store: memory.NewRoomStore(clock), presenceTTL: time.Second})
	host := s.create(t, "Host")
	hc, _ := member(t, s, host)
	waitConnected(t, hc, host.UserID)
	clock.Advance(5 * time.Hour) // past the room's TTL, in the store only
	var closed struct{ Reason string }
	waitEvent(t, hc, rooms.EventClosed, &closed)
	if closed.Reason != rooms.ReasonExpired {
		t.Fatalf("room:closed %+v, want reason EXPIRED", closed)
	}
	if err := hc.WaitDisconnect(rooms.Namespace, wait); err != nil {
		t.Fatal(err)
	}
}

// lateTouch is a room store that records every presence write (Touch,
// TouchAll) of a socket whose entry was already removed (Untouch), and counts the
// sweeps.
type lateTouch struct {
	rooms.Store
	mu      sync.Mutex
	removed map[string]bool
	late    []string
	sweeps  chan struct{}
}

func (l *lateTouch) Touch(ctx context.Context, w rooms.Write, code, userID, socketID string, ttl time.Duration) (rooms.Member, bool, error) {
	l.mu.Lock()
	if l.removed[socketID] {
		l.late = append(l.late, socketID)
	}
	l.mu.Unlock()
	return l.Store.Touch(ctx, w, code, userID, socketID, ttl)
}

func (l *lateTouch) TouchAll(ctx context.Context, w rooms.Write, ttl time.Duration, entries []rooms.PresenceEntry) ([]rooms.TouchResult, error) {
	l.mu.Lock()
	for _, e := range entries {
		if l.removed[e.SocketID] {
			l.late = append(l.late, e.SocketID)
		}
	}
	l.mu.Unlock()
	return l.Store.TouchAll(ctx, w, ttl, entries)
}

func (l *lateTouch) Untouch(ctx context.Context, w rooms.Write, code, userID, socketID string) (bool, error) {
	l.mu.Lock()
	l.removed[socketID] = true
	l.mu.Unlock()
	return l.Store.Untouch(ctx, w, code, userID, socketID)
}

func (l *lateTouch) SweepPresence(ctx context.Context, code string, now time.Time) ([]string, bool, error) {
	select {
	case l.sweeps <- struct{}{}:
	default:
	}
	return l.Store.SweepPresence(ctx, code, now)
}

// Sockets of one user connect, send events and close concurrently while
// their refresh timers (PresenceTTL/3) and the sweeps fire: no refresh
// writes a socket's presence after its disconnect removed it, not even
// after several more sweep periods (a witness socket keeps the sweeps
// going), and the member is left with the witness's entry only.
func TestConcurrentSocketsLeaveNoPresence(t *testing.T) {
	store := &lateTouch{Store: memory.NewRoomStore(nil), removed: map[string]bool{}, sweeps: make(chan struct{})}
	s := newStack(t, options{store: store, presenceTTL: time.Second, maxSockets: -1, connectRate: -1})
	host := s.create(t, "Host")
	witness, _ := member(t, s, host)
	waitConnected(t, witness, host.UserID)
	const sockets = 24
	var wg sync.WaitGroup
	for range sockets {
		wg.Go(func() {
			c, err := siotest.Dial(context.Background(), s.URL, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			p, err := c.Connect(rooms.Namespace, map[string]string{"token": host.Token}, wait)
			if err != nil || p.Type != 0 {
				t.Errorf("connect: %+v %v", p, err)
				return
			}
			// Busy for a few refresh periods (the assertion holds however
			// many refreshes ran; this only makes it likely that some race
			// the disconnects). Acks over the event rate limit count too.
			for end := time.Now().Add(1200 * time.Millisecond); time.Now().Before(end); {
				if _, err := c.EmitAck(rooms.Namespace, rooms.EventToggleLock, wait); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Wait for the removals of all the sockets (each sweep period, check
	// again), then for three sweep periods (more than a refresh period) in
	// which a stray timer would write again.
	deadline := time.After(wait)
	for {
		store.mu.Lock()
		n := len(store.removed)
		store.mu.Unlock()
		if n >= sockets {
			break
		}
		select {
		case <-store.sweeps:
		case <-deadline:
			t.Fatalf("%d of %d disconnects ran", n, sockets)
		}
	}
	for range 3 {
		select {
		case <-store.sweeps:
		case <-deadline:
			t.Fatal("the instance stopped sweeping the witness's room")
		}
	}
	store.mu.Lock()
	late := store.late
	store.mu.Unlock()
	if len(late) > 0 {
		t.Fatalf("presence written after the disconnect of %d sockets", len(late))
	}
	m, err := store.Member(context.Background(), host.RoomCode, host.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sockets != 1 {
		t.Fatalf("%d presence entries left, want the witness's only", m.Sockets)
	}
}
