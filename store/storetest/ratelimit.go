package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Limiter is a fixed-window rate limiter: the method that store/memory and
// store/redis RateLimiters share.
type Limiter interface {
	// Allow counts one hit for key and reports whether it is within limit
	// hits per window; when it is not, retryAfter is the time left until
	// the window ends.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// RunRateLimiter runs the Limiter conformance cases, each as a parallel
// subtest of t with a limiter from its own call of newLimiter. newLimiter
// also returns a function that moves the limiter's time forward, or nil
// when it runs on real time, in which case the cases use short windows and
// sleep.
func RunRateLimiter(t *testing.T, newLimiter func(t *testing.T) (Limiter, func(time.Duration))) {
	t.Helper()
	ctx := context.Background()

	t.Run("LimitUnderConcurrency", func(t *testing.T) {
		t.Parallel()
		l, _ := newLimiter(t)
		const limit, callers, window = 10, 200, time.Minute
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				ok, retryAfter, err := l.Allow(ctx, "login:1.2.3.4", limit, window)
				switch {
				case err != nil:
					t.Errorf("Allow: %v", err)
				case ok:
					allowed.Add(1)
					if retryAfter != 0 {
						t.Errorf("allowed with retryAfter %v, want 0", retryAfter)
					}
				case retryAfter <= 0 || retryAfter > window:
					t.Errorf("refused with retryAfter %v, want within (0, %v]", retryAfter, window)
				}
			})
		}
		wg.Wait()
		if allowed.Load() != limit {
			t.Errorf("%d of %d concurrent calls allowed, want %d", allowed.Load(), callers, limit)
		}
	})

	t.Run("WindowResets", func(t *testing.T) {
		t.Parallel()
		l, advance := newLimiter(t)
		window := time.Minute
		if advance == nil {
			window = time.Second
			advance = time.Sleep
		}
		allow := func(want bool) time.Duration {
			t.Helper()
			ok, retryAfter, err := l.Allow(ctx, "k", 2, window)
			if err != nil || ok != want {
				t.Fatalf("Allow = %v, %v, %v; want allowed %v", ok, retryAfter, err, want)
			}
			return retryAfter
		}
		allow(true)
		allow(true)
		if ra := allow(false); ra <= 0 || ra > window {
			t.Errorf("retryAfter = %v, want within (0, %v]", ra, window)
		}
		advance(window / 2)
		if ra := allow(false); ra <= 0 || ra > window/2 {
			t.Errorf("retryAfter halfway through the window = %v, want within (0, %v]", ra, window/2)
		}
		advance(window/2 + window/10)
		allow(true)
		allow(true)
		allow(false)
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		l, _ := newLimiter(t)
		for _, c := range []struct {
			key  string
			want bool
		}{{"a", true}, {"a", false}, {"b", true}, {"a:b", true}, {"b", false}} {
			ok, _, err := l.Allow(ctx, c.key, 1, time.Minute)
			if err != nil || ok != c.want {
				t.Errorf("Allow(%q) = %v, %v; want %v", c.key, ok, err, c.want)
			}
		}
	})

	t.Run("ZeroLimitRefusesAll", func(t *testing.T) {
		t.Parallel()
		l, _ := newLimiter(t)
		ok, retryAfter, err := l.Allow(ctx, "k", 0, time.Minute)
		if err != nil || ok || retryAfter <= 0 || retryAfter > time.Minute {
			t.Errorf("Allow(limit 0) = %v, %v, %v; want refused", ok, retryAfter, err)
		}
	})
}
