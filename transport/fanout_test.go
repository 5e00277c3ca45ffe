package transport_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// A room flooded with events does not hold back the events of another
// room: one client in both sees the quiet room's event arrive while the
// flood is still being delivered, not after it.
func TestFanoutQuietTargetOvertakesFlood(t *testing.T) {
	s := newStack(t, options{connectRate: -1})
	const ns = "/fair"
	s.T.SocketIO().Of(ns).OnConnect(func(ctx context.Context, sock *socketio.Socket, auth json.RawMessage) error {
		var a struct{ Targets []string }
		if err := json.Unmarshal(auth, &a); err != nil {
			return err
		}
		sock.Join(a.Targets...)
		return nil
	})
	const floodSockets, floodEvents = 50, 1000

	observer := dial(t, s)
	if p, err := observer.Connect(ns, map[string]any{"targets": []string{"flood", "quiet"}}, wait); err != nil || p.Type != 0 {
		t.Fatalf("observer: %v %s", err, p.Data)
	}
	var wg sync.WaitGroup
	errs := make(chan error, floodSockets)
	crowd := make([]*siotest.Client, floodSockets-1)
	for i := range crowd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := siotest.Dial(context.Background(), s.URL, nil)
			if err != nil {
				errs <- err
				return
			}
			crowd[i] = c
			if p, err := c.Connect(ns, map[string]any{"targets": []string{"flood"}}, wait); err != nil || p.Type != 0 {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("flood socket: %v", err)
	}
	t.Cleanup(func() {
		for _, c := range crowd {
			c.Close()
		}
	})

	evs := make([]rv.Event, 0, floodEvents+1)
	for i := range floodEvents {
		evs = append(evs, rv.NewEvent(ns, "flood", "flood", map[string]int{"i": i}))
	}
	evs = append(evs, rv.NewEvent(ns, "quiet", "quiet", nil))
	if err := s.Broker.Notify(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}

	// Read everything the observer gets, in order.
	quietAt, floods := -1, 0
	for floods < floodEvents || quietAt < 0 {
		p, err := observer.Wait(30*wait, func(p siotest.Packet) bool { return p.Type == 2 && p.Namespace == ns })
		if err != nil {
			t.Fatalf("after %d flood events (quiet at %d): %v", floods, quietAt, err)
		}
		switch name, args := p.Event(); name {
		case "quiet":
			quietAt = floods
		case "flood":
			var d struct{ I int }
			if err := json.Unmarshal(args[0], &d); err != nil || d.I != floods {
				t.Fatalf("flood event %s arrived as number %d: order lost", args[0], floods)
			}
			floods++
		}
	}
	t.Logf("the quiet event arrived after %d of %d flood events", quietAt, floodEvents)
	if quietAt >= floodEvents {
		t.Fatalf("the quiet room's event waited for the whole flood (%d events)", floodEvents)
	}
}
