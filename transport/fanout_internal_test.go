package transport

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

const internalWait = 20 * time.Second

func ev(target, name string, disconnect bool) rv.Event {
	return rv.Event{Namespace: "/t", Target: target, Name: name, Disconnect: disconnect}
}

func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(internalWait):
		t.Fatalf("%s: nothing after %s", what, internalWait)
		panic("unreachable")
	}
}

// Every target's events are delivered in order, never two at once, while
// several workers serve many targets.
func TestFanoutOrderPerTarget(t *testing.T) {
	const targets, perTarget = 16, 400
	var (
		mu       sync.Mutex
		got      = map[string][]int{}
		inFlight [targets]atomic.Int32
		done     sync.WaitGroup
		bad      atomic.Value
	)
	done.Add(targets * perTarget)
	f := newFanout(func(e rv.Event) {
		var i, n int
		fmt.Sscanf(e.Target, "t%d", &i)
		if inFlight[i].Add(1) != 1 {
			bad.Store("two events of one target delivered at once")
		}
		_ = json.Unmarshal(e.Data, &n)
		mu.Lock()
		got[e.Target] = append(got[e.Target], n)
		mu.Unlock()
		inFlight[i].Add(-1)
		done.Done()
	}, 4, fanoutQueueLimit, slog.New(slog.DiscardHandler))
	f.start()
	defer f.stop()
	var pub sync.WaitGroup
	for i := range targets {
		pub.Add(1)
		go func() {
			defer pub.Done()
			for n := range perTarget {
				f.enqueue(rv.Event{Namespace: "/t", Target: fmt.Sprintf("t%d", i), Name: "e", Data: json.RawMessage(fmt.Sprint(n))})
			}
		}()
	}
	pub.Wait()
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	recv(t, finished, "all events delivered")
	if msg := bad.Load(); msg != nil {
		t.Fatal(msg)
	}
	for target, seq := range got {
		for i, n := range seq {
			if n != i {
				t.Fatalf("%s: event %d delivered as number %d", target, n, i)
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queues) != 0 || len(f.ready) != 0 {
		t.Fatalf("%d queues and %d ready targets left after draining", len(f.queues), len(f.ready))
	}
}

// With a single worker, a quiet target waits for at most the one event of
// the busy target that is being delivered.
func TestFanoutRoundRobin(t *testing.T) {
	started, gate := make(chan string, 100), make(chan struct{})
	f := newFanout(func(e rv.Event) {
		started <- e.Target + ":" + e.Name
		if e.Target == "busy" {
			<-gate
		}
	}, 1, fanoutQueueLimit, slog.New(slog.DiscardHandler))
	f.start()
	defer func() { close(gate); f.stop() }()
	for i := range 50 {
		f.enqueue(ev("busy", fmt.Sprint(i), false))
	}
	if got := recv(t, started, "first event"); got != "busy:0" {
		t.Fatalf("first delivery %q", got)
	}
	f.enqueue(ev("quiet", "q", false))
	gate <- struct{}{} // busy:0 finishes
	if got := recv(t, started, "second event"); got != "quiet:q" {
		t.Fatalf("after one busy event, %q was delivered instead of the quiet target", got)
	}
	if got := recv(t, started, "third event"); got != "busy:1" {
		t.Fatalf("then %q, want busy:1", got)
	}
}

// A full queue drops its oldest events, but never a disconnection: it
// happens before the next event of the target.
func TestFanoutOverflowKeepsDisconnects(t *testing.T) {
	var mu sync.Mutex
	var got []string
	gate, holding, delivered := make(chan struct{}), make(chan struct{}), make(chan struct{}, 100)
	f := newFanout(func(e rv.Event) {
		if e.Name == "e0" {
			close(holding)
			<-gate
		}
		mu.Lock()
		got = append(got, fmt.Sprintf("%s/%v", e.Name, e.Disconnect))
		mu.Unlock()
		delivered <- struct{}{}
	}, 1, 4, slog.New(slog.DiscardHandler))
	f.start()
	defer f.stop()
	f.enqueue(ev("a", "e0", false))
	recv(t, holding, "the worker takes e0")
	f.enqueue(ev("a", "e1", true)) // kicked: must still disconnect
	for _, name := range []string{"e2", "e3", "e4", "e5", "e6"} {
		f.enqueue(ev("a", name, false))
	}
	close(gate)
	for range 6 {
		recv(t, delivered, "delivery")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"e0/false", "/true", "e3/false", "e4/false", "e5/false", "e6/false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

// stop waits for the event being delivered and drops the rest; start
// serves again.
func TestFanoutStop(t *testing.T) {
	gate, holding, delivered := make(chan struct{}), make(chan struct{}), make(chan string, 100)
	f := newFanout(func(e rv.Event) {
		if e.Name == "first" {
			close(holding)
			<-gate
		}
		delivered <- e.Name
	}, 2, fanoutQueueLimit, slog.New(slog.DiscardHandler))
	f.start()
	f.enqueue(ev("a", "first", false))
	f.enqueue(ev("a", "dropped", false))
	recv(t, holding, "the worker takes the first event")
	stopped := make(chan struct{})
	go func() {
		f.stop()
		close(stopped)
	}()
	// stop cannot return before the delivery in progress does.
	for {
		f.mu.Lock()
		s := f.stopped
		f.mu.Unlock()
		if s {
			break
		}
		runtime.Gosched()
	}
	select {
	case <-stopped:
		t.Fatal("stop returned while an event was being delivered")
	default:
	}
	close(gate)
	recv(t, stopped, "stop")
	if got := recv(t, delivered, "first"); got != "first" {
		t.Fatalf("delivered %q", got)
	}
	f.enqueue(ev("a", "after stop", false))
	f.start()
	f.enqueue(ev("b", "restarted", false))
	if got := recv(t, delivered, "after restart"); got != "restarted" {
		t.Fatalf("after restart: %q", got)
	}
	f.stop()
}

// With a batch delivery, a turn takes up to batch events of one target, in
// order, ending with the first that asks for a disconnection; the other
// targets still get their turn between two batches of a busy one.
func TestFanoutBatches(t *testing.T) {
	turns := make(chan string, 100)
	gate := make(chan struct{})
	f := newFanout(func(e rv.Event) {
		turns <- e.Target + ":" + e.Name
		if e.Name == "hold" {
			<-gate
		}
	}, 1, fanoutQueueLimit, slog.New(slog.DiscardHandler))
	f.batch = 4
	f.deliverBatch = func(evs []rv.Event) {
		s := evs[0].Target + ":"
		for i, e := range evs {
			if i > 0 {
				s += ","
			}
			s += e.Name
			if e.Disconnect {
				s += "!"
			}
		}
		turns <- s
	}
	f.start()
	defer f.stop()
	f.enqueue(ev("busy", "hold", false))
	if got := recv(t, turns, "first turn"); got != "busy:hold" {
		t.Fatalf("first turn %q", got)
	}
	for i := range 7 {
		f.enqueue(ev("busy", fmt.Sprint(i), i == 5))
	}
	f.enqueue(ev("quiet", "q", false))
	close(gate)
	for _, want := range []string{"quiet:q", "busy:0,1,2,3", "busy:4,5!", "busy:6"} {
		if got := recv(t, turns, want); got != want {
			t.Fatalf("turn %q, want %q", got, want)
		}
	}
}
