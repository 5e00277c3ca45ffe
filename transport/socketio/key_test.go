package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func TestKeyTypedIndependentSlots(t *testing.T) {
	s := &Socket{}
	user := NewKey[string]("user")
	other := NewKey[string]("user") // same name, another slot
	count := NewKey[int]("count")
	failure := NewKey[error]("failure")

	if v, ok := user.Get(s); ok || v != "" {
		t.Fatalf("unset key: %q, %v", v, ok)
	}
	user.Set(s, "alice")
	count.Set(s, 3)
	failure.Set(s, nil)
	s.SetData("legacy")
	if v, ok := user.Get(s); !ok || v != "alice" {
		t.Fatalf("user = %q, %v", v, ok)
	}
	if _, ok := other.Get(s); ok {
		t.Fatal("a key with the same name shares the slot")
	}
	if v, ok := count.Get(s); !ok || v != 3 {
		t.Fatalf("count = %d, %v", v, ok)
	}
	if v, ok := failure.Get(s); !ok || v != nil {
		t.Fatalf("failure = %v, %v", v, ok)
	}
	if s.Data() != "legacy" {
		t.Fatalf("Data = %v", s.Data())
	}
	user.Delete(s)
	if _, ok := user.Get(s); ok {
		t.Fatal("deleted key still set")
	}
	if user.String() != "user" {
		t.Fatalf("String = %q", user.String())
	}
}

// TestKeyConcurrent uses keys from many goroutines on live sockets, from
// handlers and from outside, while the sockets disconnect.
func TestKeyConcurrent(t *testing.T) {
	srv, ts := newTestServer(t, Config{Logger: discardLogger()})
	seen := NewKey[int]("seen")
	name := NewKey[string]("name")
	got := make(chan string, 100)
	ns := srv.Of("/")
	ns.OnConnected(func(s *Socket) {
		name.Set(s, "n-"+s.ID())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seen.Set(s, i)
				seen.Get(s)
				name.Get(s)
			}()
		}
		wg.Wait()
		s.Disconnect()
	})
	ns.OnDisconnect(func(s *Socket, reason string) {
		v, _ := name.Get(s)
		_, ok := seen.Get(s)
		got <- fmt.Sprint(v == "n-"+s.ID(), ok)
	})
	for range 4 {
		go func() {
			c, err := tryDialWS(eioURL(ts, "transport=websocket"), nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.conn.Close()
			c.readMsg(testTimeout)
			c.write(ws.OpText, []byte("40"))
			for {
				if _, _, err := c.readMsg(testTimeout); err != nil {
					return
				}
			}
		}()
	}
	for range 4 {
		select {
		case v := <-got:
			if v != "true true" {
				t.Fatalf("values in OnDisconnect: %s", v)
			}
		case <-time.After(testTimeout):
			t.Fatal("no disconnect")
		}
	}
}

// TestShutdownPairingWhileConnecting shuts the server down while many
// clients are connecting: whatever step each one reached, OnDisconnect
// pairs with OnConnected.
func TestShutdownPairingWhileConnecting(t *testing.T) {
	srv := NewServer(Config{Logger: discardLogger()})
	p := newPairing()
	ns := srv.Of("/")
	started := make(chan struct{}, 100)
	ns.OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		started <- struct{}{}
		return nil
	})
	ns.OnConnected(p.onConnected)
	ns.OnDisconnect(p.onDisconnect)
	ts := serve(t, srv)
	const clients = 16
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := tryDialWS(eioURL(ts, "transport=websocket"), nil)
			if err != nil {
				return // refused: the server is shutting down
			}
			defer c.conn.Close()
			if _, _, err := c.readMsg(testTimeout); err != nil {
				return
			}
			c.write(ws.OpText, []byte("40"))
			for {
				if _, _, err := c.readMsg(testTimeout); err != nil {
					return
				}
			}
		}()
	}
	select {
	case <-started:
	case <-time.After(testTimeout):
		t.Fatal("no client connected")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	waitFor(t, "OnDisconnect for every OnConnected", func() bool {
		c, d := p.totals()
		return d >= c
	})
	p.check(t)
}
