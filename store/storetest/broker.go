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
// store/memory and store/redis Brokers share. One Broker is one instance.
type Broker interface {
	rv.Notifier
	// Subscribe calls deliver with every event of a followed target
	// published after it returns, in order per target, until unsubscribe is
	// called.
	Subscribe(ctx context.Context, deliver func(rv.Event)) (unsubscribe func(), err error)
	// Follow makes the instance receive the events of target in namespace
	// published after it returns; calls are counted.
	Follow(ctx context.Context, namespace, target string) error
	// Unfollow undoes one Follow.
	Unfollow(namespace, target string)
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
		follow(t, b, "/rooms", "room:ABCD")
		follow(t, b, "/rooms", "user:u2")
		follow(t, b, "/chat", "match:9")
		follow(t, b, "/queue", "user:u3")
		follow(t, b, "/video", "session:s")

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
		follow(t, b, "/rooms", "room:A")

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

	t.Run("OnlyFollowedTargets", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		r := subscribe(t, b)
		follow(t, b, "/rooms", "room:A")
		follow(t, b, "/chat", "room:B") // same target name, other namespace
		notify(t, b,
			rv.NewEvent("/rooms", "room:B", "not followed", nil),
			rv.NewEvent("/chat", "room:A", "not followed", nil),
			rv.NewEvent("/rooms", "room:A", "one", nil),
			rv.NewEvent("/chat", "room:B", "two", nil))
		notify(t, b, rv.NewEvent("/rooms", "user:x", "not followed", nil))
		notify(t, b, rv.NewEvent("/rooms", "room:A", "three", nil))
		got := r.wait(t, 3)
		for i, name := range []string{"one", "two", "three"} {
			if got[i].Name != name {
				t.Errorf("event %d = %s, want %q", i, show(got[i]), name)
			}
		}
	})

	t.Run("FollowIsCounted", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		r := subscribe(t, b)
		follow(t, b, "/rooms", "room:S") // sentinel, followed throughout
		if err := b.Follow(ctx, "/rooms", "room:A"); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		if err := b.Follow(ctx, "/rooms", "room:A"); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		b.Unfollow("/rooms", "room:A")
		notify(t, b, rv.NewEvent("/rooms", "room:A", "still followed", nil))
		r.wait(t, 1)
		b.Unfollow("/rooms", "room:A")
		notify(t, b, rv.NewEvent("/rooms", "room:A", "left", nil))
		notify(t, b, rv.NewEvent("/rooms", "room:S", "sentinel", nil))
		got := r.wait(t, 2)
		if got[1].Name != "sentinel" {
			t.Errorf("after the last Unfollow got %s, want only the sentinel", show(got[1]))
		}

		// An Unfollow before its Follow cancels out.
		b.Unfollow("/rooms", "room:C")
		if err := b.Follow(ctx, "/rooms", "room:C"); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		notify(t, b, rv.NewEvent("/rooms", "room:C", "cancelled out", nil))
		notify(t, b, rv.NewEvent("/rooms", "room:S", "sentinel 2", nil))
		if got := r.wait(t, 3); got[2].Name != "sentinel 2" {
			t.Errorf("after Unfollow then Follow got %s, want only the sentinel", show(got[2]))
		}
	})

	t.Run("FollowBeforeSubscribe", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		follow(t, b, "/rooms", "room:A")
		r := subscribe(t, b)
		notify(t, b, rv.NewEvent("/rooms", "room:A", "hello", nil))
		r.wait(t, 1)
	})

	t.Run("ConcurrentFollowsAndOrderPerTarget", func(t *testing.T) {
		t.Parallel()
		b := newBroker(t)
		r := subscribe(t, b)
		const targets, followers, perTarget = 8, 4, 30
		var wg sync.WaitGroup
		errs := make(chan error, targets*followers)
		for i := range targets {
			for range followers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					target := fmt.Sprintf("room:%d", i)
					if err := b.Follow(ctx, "/rooms", target); err != nil {
						errs <- err
						return
					}
					// Followed: this event must arrive.
					errs <- b.Notify(ctx, rv.NewEvent("/rooms", target, "joined", nil))
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("Follow or Notify: %v", err)
			}
		}
		r.wait(t, targets*followers)
		for i := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range perTarget {
					if err := b.Notify(ctx, rv.NewEvent("/rooms", fmt.Sprintf("room:%d", i), "seq", n)); err != nil {
						t.Errorf("Notify: %v", err)
					}
				}
			}()
		}
		wg.Wait()
		got := r.wait(t, targets*followers+targets*perTarget)
		next := map[string]int{}
		for _, ev := range got[targets*followers:] {
			var n int
			if err := json.Unmarshal(ev.Data, &n); err != nil || n != next[ev.Target] {
				t.Fatalf("%s: got %s, want seq %d", ev.Target, ev.Data, next[ev.Target])
			}
			next[ev.Target]++
		}

		// Every follower leaves at once: nothing more arrives.
		for i := range targets {
			for range followers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					b.Unfollow("/rooms", fmt.Sprintf("room:%d", i))
				}()
			}
		}
		wg.Wait()
		follow(t, b, "/rooms", "room:S")
		for i := range targets {
			notify(t, b, rv.NewEvent("/rooms", fmt.Sprintf("room:%d", i), "left", nil))
		}
		notify(t, b, rv.NewEvent("/rooms", "room:S", "sentinel", nil))
		got = r.wait(t, targets*followers+targets*perTarget+1)
		if last := got[len(got)-1]; last.Name != "sentinel" {
			t.Errorf("after every Unfollow got %s, want only the sentinel", show(last))
		}
	})
}

// follow follows target for the rest of the test.
func follow(t *testing.T, b Broker, namespace, target string) {
	t.Helper()
	if err := b.Follow(context.Background(), namespace, target); err != nil {
		t.Fatalf("Follow(%q, %q): %v", namespace, target, err)
	}
	t.Cleanup(func() { b.Unfollow(namespace, target) })
}

func notify(t *testing.T, b Broker, events ...rv.Event) {
	t.Helper()
	if err := b.Notify(context.Background(), events...); err != nil {
		t.Fatalf("Notify: %v", err)
	}
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
