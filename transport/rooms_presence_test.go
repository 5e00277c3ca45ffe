package transport_test

import (
	"context"
	"encoding/json"
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
