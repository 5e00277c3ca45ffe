package transport_test

import (
	"encoding/json"
	"testing"

	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// CONNECT/DISCONNECT churn on one connection takes from the same event
// budget as events: once the burst is spent, CONNECTs are refused with
// RATE_LIMITED and cause no more broadcasts to the room.
func TestSocketConnectChurnIsRateLimited(t *testing.T) {
	// A burst of 20 (the default) and almost no refill.
	s := newStack(t, options{eventRate: 0.001})
	host := s.create(t, "Host")
	bob := s.join(t, host.RoomCode, "Bob")
	hc, _ := member(t, s, host)
	waitEvent(t, hc, rooms.EventUserConnected, nil) // the host's own

	c := dial(t, s)
	const pairs = 100
	accepted, limited := 0, 0
	for range pairs {
		p, err := c.Connect(rooms.Namespace, map[string]string{"token": bob.Token}, wait)
		if err != nil {
			t.Fatal(err)
		}
		switch p.Type {
		case 0:
			accepted++
		case 4:
			var e struct {
				Message string
				Data    struct{ Code string }
			}
			if err := json.Unmarshal(p.Data, &e); err != nil || e.Data.Code != "RATE_LIMITED" || e.Message == "" {
				t.Fatalf("CONNECT_ERROR %s", p.Data)
			}
			limited++
		}
		if err := c.Send("41" + rooms.Namespace + ","); err != nil {
			t.Fatal(err)
		}
	}
	if accepted != 20 || limited != pairs-20 {
		t.Fatalf("%d CONNECTs accepted, %d rate limited", accepted, limited)
	}
	// The room saw Bob connect once per accepted CONNECT, no more. The
	// host's ack is answered after the broadcasts published before it.
	if m := ack(t, hc, rooms.EventToggleLock); m["ok"] != true {
		t.Fatalf("toggle: %v", m)
	}
	waitEvent(t, hc, rooms.EventLockToggled, nil)
	connected := 0
	for _, n := range hc.Events(rooms.Namespace) {
		if n == rooms.EventUserConnected {
			connected++
		}
	}
	if connected != accepted {
		t.Fatalf("%d user:connected broadcasts for %d accepted CONNECTs", connected, accepted)
	}
}

// Events of a host application's own handlers on /rooms count against the
// same limit, and limited ones are answered like the built-in events.
func TestHostEventsOnRoomsAreRateLimited(t *testing.T) {
	s := newStack(t, options{eventRate: 0.001})
	s.T.SocketIO().Of(rooms.Namespace).On("game:move", func(so *socketio.Socket, ev *socketio.Event) {
		if ev.Ack != nil {
			ev.Ack(map[string]bool{"ok": true})
		}
	})
	host := s.create(t, "Host")
	hc, _ := member(t, s, host) // the CONNECT takes one of the 20
	for i := range 19 {
		if m := ack(t, hc, "game:move"); m["ok"] != true {
			t.Fatalf("move %d: %v", i, m)
		}
	}
	if m := ack(t, hc, "game:move"); m["ok"] != false || ackCode(m) != "RATE_LIMITED" {
		t.Fatalf("move over the limit: %v", m)
	}
	var er struct{ Code, Message string }
	waitEvent(t, hc, rooms.EventError, &er)
	if er.Code != "RATE_LIMITED" || er.Message == "" {
		t.Fatalf("error:room %+v", er)
	}
	if m := ack(t, hc, rooms.EventToggleLock); ackCode(m) != "RATE_LIMITED" {
		t.Fatalf("built-in event over the limit: %v", m)
	}
}
