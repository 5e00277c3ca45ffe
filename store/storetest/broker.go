package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// Broker is a rendezvous.Notifier that can also be subscribed to: what
// store/memory and store/redis Brokers share.
type Broker interface {
	rv.Notifier
	// Subscribe calls deliver with every event published after it returns,
	// in order, until unsubscribe is called.
	Subscribe(ctx context.Context, deliver func(rv.Event)) (unsubscribe func(), err error)
}

// deliveryTimeout bounds the wait for an event to arrive.
const deliveryTimeout = 5 * time.Second

// RunBroker runs the Broker conformance cases, each as a parallel subtest
// of t with a broker from its own call of newBroker.
func RunBroker(t *testing.T, newBroker func(t *testing.T) Broker) {
	t.Helper()
	ctx := context.Background()

	t.Run("EverySubscriberGetsEveryEventInOrder", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		subs := []*recorder{subscribe(t, b), subscribe(t, b)}

		var want []rv.Event
		publish := func(events ...rv.Event) {
			t.Helper()
			if err := b.Notify(ctx, events...); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			want = append(want, events...)
		}
		publish(rv.NewEvent("/rooms", "room:ABCD", "room:state", map[string]any{
			"room":  map[string]any{"code": "ABCD", "isLocked": false, "maxUsers": 8},
			"users": []any{map[string]any{"id": "u1", "displayName": "Zoë ✨ \"quoted\" <b>", "isHost": true}},
		}))
		publish(rv.NewEvent("/rooms", "user:u2", "room:kicked", nil))
		publish(rv.Event{Namespace: "/rooms", Target: "user:u2", Disconnect: true})
		publish(rv.Event{Namespace: "/chat", Target: "match:9", Name: "message", Data: json.RawMessage(` { "text" : "hi" } `)})
		var batch []rv.Event
		for i := range 20 {
			batch = append(batch, rv.NewEvent("/queue", "user:u3", "tick", map[string]int{"n": i}))
		}
		publish(batch...)
		publish()
		for i := range 20 {
			publish(rv.NewEvent("/video", "session:s", "seq", i))
		}

		for i, s := range subs {
			got := s.wait(t, len(want))
			for j := range want {
				if !sameEvent(got[j], want[j]) {
					t.Errorf("subscriber %d, event %d:\n got %s\nwant %s", i, j, show(got[j]), show(want[j]))
				}
			}
		}
	})

	t.Run("UnsubscribeStopsDelivery", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		gone := &recorder{}
		unsubscribe, err := b.Subscribe(ctx, gone.deliver)
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		t.Cleanup(unsubscribe)
		stays := subscribe(t, b)

		if err := b.Notify(ctx, rv.NewEvent("/rooms", "room:A", "before", nil)); err != nil {
			t.Fatalf("Notify: %v", err)
		}
		gone.wait(t, 1)
		stays.wait(t, 1)
		unsubscribe()
		unsubscribe() // a second call does nothing

		for i := range 5 {
			if err := b.Notify(ctx, rv.NewEvent("/rooms", "room:A", "after", i)); err != nil {
				t.Fatalf("Notify: %v", err)
			}
		}
		stays.wait(t, 6)
		time.Sleep(100 * time.Millisecond)
		if got := gone.events(); len(got) != 1 {
			t.Errorf("unsubscribed subscriber got %d events, want only the 1 sent before unsubscribing", len(got))
		}
	})

	t.Run("NotifyWithoutSubscribers", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		if err := b.Notify(ctx, rv.NewEvent("/rooms", "room:A", "nobody", nil)); err != nil {
			t.Errorf("Notify without subscribers: %v", err)
		}
		if err := b.Notify(ctx); err != nil {
			t.Errorf("Notify of no events: %v", err)
		}
		unsubscribe, err := b.Subscribe(ctx, func(rv.Event) {})
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		unsubscribe()
		if err := b.Notify(ctx, rv.NewEvent("/rooms", "room:A", "nobody", nil)); err != nil {
			t.Errorf("Notify after every subscriber left: %v", err)
		}
	})
}

// recorder collects the events delivered to one subscriber.
type recorder struct {
	mu     sync.Mutex
	got    []rv.Event
	notify chan struct{}
}

func subscribe(t *testing.T, b Broker) *recorder {
	t.Helper()
	r := &recorder{}
	unsubscribe, err := b.Subscribe(context.Background(), r.deliver)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	t.Cleanup(unsubscribe)
	return r
}

func (r *recorder) deliver(ev rv.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, ev)
	if r.notify != nil {
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}
}

func (r *recorder) events() []rv.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rv.Event(nil), r.got...)
}

// wait waits until n events have arrived and returns them; it fails the
// test if they do not arrive in time or if more arrive.
func (r *recorder) wait(t *testing.T, n int) []rv.Event {
	t.Helper()
	r.mu.Lock()
	if r.notify == nil {
		r.notify = make(chan struct{}, 1)
	}
	ch := r.notify
	r.mu.Unlock()
	deadline := time.After(deliveryTimeout)
	for {
		if got := r.events(); len(got) >= n {
			if len(got) > n {
				t.Errorf("got %d events, want %d", len(got), n)
			}
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("got %d events after %v, want %d", len(r.events()), deliveryTimeout, n)
		}
	}
}

// sameEvent reports whether a and b are equal, with Data compared as JSON.
func sameEvent(a, b rv.Event) bool {
	if a.Namespace != b.Namespace || a.Target != b.Target || a.Name != b.Name || a.Disconnect != b.Disconnect {
		return false
	}
	if len(a.Data) == 0 || len(b.Data) == 0 {
		return len(a.Data) == len(b.Data)
	}
	var x, y any
	if json.Unmarshal(a.Data, &x) != nil || json.Unmarshal(b.Data, &y) != nil {
		return bytes.Equal(a.Data, b.Data)
	}
	return reflect.DeepEqual(x, y)
}

func show(ev rv.Event) string {
	return fmt.Sprintf("{ns:%q to:%q ev:%q d:%s x:%v}", ev.Namespace, ev.Target, ev.Name, ev.Data, ev.Disconnect)
}
