package transport

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/memory"
	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
)

// sharedCounters are the HitCounters that several instances share: one
// memory.RateLimiter (as in one process), one miniredis, one real Redis.
var sharedCounters = []struct {
	name string
	new  func(t *testing.T) HitCounter
}{
	{"Memory", func(*testing.T) HitCounter { return memory.NewRateLimiter(nil) }},
	{"Miniredis", func(t *testing.T) HitCounter {
		mr := miniredis.RunT(t)
		client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = client.Close() })
		return redisstore.NewRateLimiter(client, "rv:")
	}},
	{"Redis", func(t *testing.T) HitCounter {
		client, prefix := testenv.Redis(t)
		return redisstore.NewRateLimiter(client, prefix)
	}},
}

// instances returns n local throttles sharing counter, whose syncs run
// only when the test calls flush (the interval is never reached).
func instances(counter HitCounter, n, limit int, window time.Duration) []*localThrottle {
	out := make([]*localThrottle, n)
	for i := range out {
		out[i] = newLocalThrottle(counter, limit, window, time.Hour, rv.SystemClock, slog.New(slog.DiscardHandler))
	}
	return out
}

// hammer sends requests calls of key to l from as many goroutines, and
// returns how many were admitted, checking the refusals' retry delays.
func hammer(t *testing.T, l *localThrottle, key string, requests int, window time.Duration) int {
	t.Helper()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			ok, after := l.allow(context.Background(), []byte(key))
			switch {
			case ok:
				admitted.Add(1)
			case after <= 0 || after > window:
				t.Errorf("refused with retry after %v, want within (0, %v]", after, window)
			}
		})
	}
	wg.Wait()
	return int(admitted.Load())
}

func closeAll(ls []*localThrottle) {
	for _, l := range ls {
		l.close(context.Background())
	}
}

// One instance alone is exact, under concurrency, and sends its count.
func TestLocalThrottleOneInstanceExact(t *testing.T) {
	for _, c := range sharedCounters {
		t.Run(c.name, func(t *testing.T) {
			counter := c.new(t)
			const limit, window = 50, time.Minute
			ls := instances(counter, 1, limit, window)
			defer closeAll(ls)
			if got := hammer(t, ls[0], "k", 300, window); got != limit {
				t.Fatalf("%d of 300 admitted, want exactly %d", got, limit)
			}
			ls[0].flush(context.Background())
			counts, _, err := counter.CountHits(context.Background(), []string{"k"}, []int64{1}, window)
			if err != nil {
				t.Fatal(err)
			}
			// The shared count holds the admitted hits and the one just
			// added; refused ones are not sent.
			if counts[0] != limit+1 {
				t.Fatalf("shared count %d, want %d", counts[0], limit+1)
			}
		})
	}
}

// Two instances on one shared counter: concurrently, before they sync,
// together they admit at least the limit and at most twice it; once both
// have synced, both refuse every request; an instance that first sees a
// key already over the limit elsewhere refuses at once.
func TestLocalThrottleTwoInstances(t *testing.T) {
	for _, c := range sharedCounters {
		t.Run(c.name, func(t *testing.T) {
			counter := c.new(t)
			const limit, window, requests = 40, time.Minute, 200
			ls := instances(counter, 2, limit, window)
			defer closeAll(ls)

			var admitted [2]int
			var wg sync.WaitGroup
			for i, l := range ls {
				wg.Go(func() { admitted[i] = hammer(t, l, "shared", requests, window) })
			}
			wg.Wait()
			total := admitted[0] + admitted[1]
			t.Logf("admitted before any sync: %d + %d = %d (limit %d)", admitted[0], admitted[1], total, limit)
			if total < limit || total > 2*limit {
				t.Fatalf("admitted %d, want within [%d, %d]", total, limit, 2*limit)
			}
			for _, l := range ls {
				l.flush(context.Background())
			}
			for i, l := range ls {
				if n := hammer(t, l, "shared", 50, window); n != 0 {
					t.Errorf("instance %d admitted %d after both synced, want 0", i, n)
				}
			}

			// A key used up on instance 0 and synced is refused by
			// instance 1 on its first request.
			if n := hammer(t, ls[0], "sticky", 100, window); n != limit {
				t.Fatalf("instance 0 admitted %d, want %d", n, limit)
			}
			ls[0].flush(context.Background())
			if ok, after := ls[1].allow(context.Background(), []byte("sticky")); ok || after <= 0 || after > window {
				t.Fatalf("instance 1's first request: admitted %v, retry after %v; want refused", ok, after)
			}
		})
	}
}

// synced waits until l has sent every hit of key it admitted.
func synced(t *testing.T, l *localThrottle, key string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l.mu.Lock()
		s := l.keys[key]
		done := s != nil && s.pending == 0 && s.inflight == 0 && !s.dirty
		l.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not synced within 20 s", key)
		}
		runtime.Gosched() // polling the background sync's outcome
	}
}

// The background sync, on its own timer, sends the hits and brings back
// the other instance's: once a's hits are sent, b's next admitted request
// makes b sync, and b then refuses.
func TestLocalThrottleBackgroundSync(t *testing.T) {
	for _, c := range sharedCounters {
		t.Run(c.name, func(t *testing.T) {
			counter := c.new(t)
			const limit, window = 30, time.Minute
			a := newLocalThrottle(counter, limit, window, 5*time.Millisecond, rv.SystemClock, slog.New(slog.DiscardHandler))
			b := newLocalThrottle(counter, limit, window, 5*time.Millisecond, rv.SystemClock, slog.New(slog.DiscardHandler))
			defer closeAll([]*localThrottle{a, b})
			// b knows the key first, with one hit.
			if ok, _ := b.allow(context.Background(), []byte("k")); !ok {
				t.Fatal("b's first request refused")
			}
			if n := hammer(t, a, "k", 100, window); n != limit-1 {
				t.Fatalf("a admitted %d, want %d", n, limit-1)
			}
			synced(t, a, "k")
			// b still believes one hit was counted: it admits one more,
			// the overshoot of one interval, and learns the shared count.
			if ok, _ := b.allow(context.Background(), []byte("k")); !ok {
				t.Fatal("b refused before its sync")
			}
			synced(t, b, "k")
			if ok, after := b.allow(context.Background(), []byte("k")); ok || after <= 0 || after > window {
				t.Fatalf("b after its sync: admitted %v, retry after %v; want refused", ok, after)
			}
			if ok, _ := a.allow(context.Background(), []byte("k")); ok {
				t.Fatal("a admitted beyond the limit")
			}
		})
	}
}

// failingCounter is a HitCounter whose store is down.
type failingCounter struct{ calls atomic.Int64 }

func (f *failingCounter) Allow(context.Context, string, int, time.Duration) (bool, time.Duration, error) {
	f.calls.Add(1)
	return false, 0, rv.ErrStoreUnavailable
}

func (f *failingCounter) CountHits(context.Context, []string, []int64, time.Duration) ([]int64, []time.Duration, error) {
	f.calls.Add(1)
	return nil, nil, rv.ErrStoreUnavailable.Wrap(errors.New("connection refused"))
}

// With the store down the first request of a key is admitted (fail open)
// and the instance still enforces the limit on its own, asking the store
// once per key and sync, not per request.
func TestLocalThrottleStoreDown(t *testing.T) {
	f := &failingCounter{}
	const limit, window = 10, time.Minute
	l := newLocalThrottle(f, limit, window, time.Hour, rv.SystemClock, slog.New(slog.DiscardHandler))
	defer l.close(context.Background())
	if n := hammer(t, l, "k", 100, window); n != limit {
		t.Fatalf("admitted %d with the store down, want %d (local enforcement)", n, limit)
	}
	if got := f.calls.Load(); got != 1 {
		t.Fatalf("%d calls to the store for 100 requests, want 1 (the warm-up)", got)
	}
	l.flush(context.Background())
	l.mu.Lock()
	s := l.keys["k"]
	pending, dirty := s.pending, s.dirty
	l.mu.Unlock()
	if pending != limit || !dirty {
		t.Fatalf("after a failed sync: pending %d, dirty %v; want %d kept for the next sync", pending, dirty, limit)
	}
}

// The tracked keys are bounded: beyond the bound, after sweeping, a
// request asks the Limiter itself.
func TestLocalThrottleKeyBound(t *testing.T) {
	counter := memory.NewRateLimiter(nil)
	l := newLocalThrottle(counter, 1, time.Minute, time.Hour, rv.SystemClock, slog.New(slog.DiscardHandler))
	defer l.close(context.Background())
	l.maxKeys = 3
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		if ok, _ := l.allow(context.Background(), []byte(k)); !ok {
			t.Fatalf("first request of %s refused", k)
		}
	}
	if ok, _ := l.allow(context.Background(), []byte("e")); ok {
		t.Fatal("second request of the untracked key e admitted, want refused by the Limiter")
	}
	l.mu.Lock()
	n := len(l.keys)
	l.mu.Unlock()
	if n != 3 {
		t.Fatalf("%d keys tracked, want 3", n)
	}
}
