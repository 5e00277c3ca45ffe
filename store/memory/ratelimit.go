package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// RateLimiter counts hits per key in fixed windows, in process memory.
// Create one with NewRateLimiter; it is safe for concurrent use. Windows
// that have ended are swept as hits arrive, so memory stays proportional
// to the keys hit within the current windows.
type RateLimiter struct {
	clock rv.Clock

	mu      sync.Mutex
	windows map[string]*fixedWindow
	sweeper sweeper
}

type fixedWindow struct {
	ends  time.Time
	count int
}

// NewRateLimiter returns a RateLimiter that tells time by clock (nil means
// rv.SystemClock).
func NewRateLimiter(clock rv.Clock) *RateLimiter {
	if clock == nil {
		clock = rv.SystemClock
	}
	return &RateLimiter{clock: clock, windows: make(map[string]*fixedWindow)}
}

// Allow counts one hit for key. A key's window starts at its first hit and
// lasts window; within it the first limit hits are allowed. A hit beyond the
// limit is refused with retryAfter, the exact time left until the window
// ends (always positive). A limit below 1 refuses every hit. window must be
// positive.
func (l *RateLimiter) Allow(_ context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error) {
	if window <= 0 {
		return false, 0, errors.New("memory: rate limit window must be positive")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.sweep(now)
	w := l.windows[key]
	if w == nil || !now.Before(w.ends) {
		w = &fixedWindow{ends: now.Add(window)}
		l.windows[key] = w
	}
	w.count++
	if w.count <= limit {
		return true, 0, nil
	}
	return false, w.ends.Sub(now), nil
}

func (l *RateLimiter) sweep(now time.Time) {
	if !l.sweeper.due(now, len(l.windows)) {
		return
	}
	for key, w := range l.windows {
		if !now.Before(w.ends) {
			delete(l.windows, key)
		}
	}
	l.sweeper.done(now, len(l.windows))
}

// CountHits adds hits[i] hits to the window of keys[i], for every i, and
// returns each key's count in its current window, these hits included, and
// the exact time left until that window ends. The windows are those of
// Allow. Every hits[i] must be positive. It serves transport's local-first
// HTTP rate limit, which counts hits in process and sends them in batches
// (several Transports sharing one RateLimiter behave as instances sharing
// one Redis).
func (l *RateLimiter) CountHits(_ context.Context, keys []string, hits []int64, window time.Duration) (counts []int64, left []time.Duration, err error) {
	if window <= 0 {
		return nil, nil, errors.New("memory: rate limit window must be positive")
	}
	if len(keys) != len(hits) {
		return nil, nil, errors.New("memory: CountHits needs one hit count per key")
	}
	for _, n := range hits {
		if n <= 0 {
			return nil, nil, errors.New("memory: CountHits needs positive hit counts")
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.sweep(now)
	counts = make([]int64, len(keys))
	left = make([]time.Duration, len(keys))
	for i, key := range keys {
		w := l.windows[key]
		if w == nil || !now.Before(w.ends) {
			w = &fixedWindow{ends: now.Add(window)}
			l.windows[key] = w
		}
		w.count += int(hits[i])
		counts[i] = int64(w.count)
		left[i] = w.ends.Sub(now)
	}
	return counts, left, nil
}
