package socketio

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestDisconnectRoomDoesNotWaitForHandlers: DisconnectRoom on a room whose
// OnDisconnect handlers block must not delay an Emit to another room
// issued right after it, and each disconnected client still receives the
// events emitted before DisconnectRoom, then its DISCONNECT packet.
func TestDisconnectRoomDoesNotWaitForHandlers(t *testing.T) {
	srv, ts := newTestServer(t, Config{Logger: discardLogger()})
	release := make(chan struct{})
	entered := make(chan string, 10)
	ns := srv.Of("/")
	ns.OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		var a struct{ Room string }
		json.Unmarshal(auth, &a)
		s.Join(a.Room)
		return nil
	})
	ns.OnDisconnect(func(s *Socket, reason string) {
		if reason == reasonServerDisconnect {
			entered <- s.ID()
			<-release
		}
	})
	var slow []*wsClient
	for range 3 {
		c, _ := dialEngine(t, ts)
		c.connect("/", `{"room":"slow"}`)
		slow = append(slow, c)
	}
	other, _ := dialEngine(t, ts)
	other.connect("/", `{"room":"other"}`)
	defer close(release)

	done := make(chan struct{})
	go func() {
		ns.Emit("slow", "before")
		ns.DisconnectRoom("slow")
		if n := ns.RoomSize("slow"); n != 0 {
			t.Errorf("RoomSize(slow) = %d right after DisconnectRoom, want 0", n)
		}
		ns.Emit("slow", "after") // reaches nobody
		ns.Emit("other", "news")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("DisconnectRoom and Emit waited for the disconnect handlers")
	}
	if got := other.next(); got != `42["news"]` {
		t.Fatalf("other client got %q", got)
	}
	for _, c := range slow {
		if got := c.next(); got != `42["before"]` {
			t.Fatalf("slow client got %q, want the event emitted before DisconnectRoom", got)
		}
		if got := c.next(); got != "41" {
			t.Fatalf("slow client got %q, want DISCONNECT", got)
		}
	}
	// Every handler is running, none on the caller's goroutine.
	for range slow {
		select {
		case <-entered:
		case <-time.After(testTimeout):
			t.Fatal("an OnDisconnect handler never ran")
		}
	}
}

// TestDisconnectRoomConcurrentPairing disconnects rooms from many
// goroutines while their sockets send events: every socket is disconnected
// once and OnDisconnect pairs with OnConnected.
func TestDisconnectRoomConcurrentPairing(t *testing.T) {
	srv, ts := newTestServer(t, Config{Logger: discardLogger()})
	p := newPairing()
	ns := srv.Of("/")
	ns.OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		s.Join("r")
		return nil
	})
	ns.OnConnected(p.onConnected)
	ns.OnDisconnect(p.onDisconnect)
	ns.On("ping", func(s *Socket, ev *Event) { ev.Ack("pong") })
	const clients = 8
	var cs []*wsClient
	for range clients {
		c, _ := connectNamespace(t, ts, "/")
		cs = append(cs, c)
	}
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c.write(ws.OpText, []byte(`421["ping"]`))
		}()
		go func() {
			defer wg.Done()
			ns.DisconnectRoom("r")
			ns.DisconnectRoom("")
		}()
	}
	wg.Wait()
	waitFor(t, "every OnDisconnect", func() bool {
		_, d := p.totals()
		return d >= clients
	})
	p.check(t)
	if c, d := p.totals(); c != clients || d != clients {
		t.Fatalf("OnConnected %d, OnDisconnect %d, want %d each", c, d, clients)
	}
}
