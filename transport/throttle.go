package transport

import (
	"context"
	"log/slog"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// HitCounter is a Limiter that can also count hits in batches: CountHits
// adds hits[i] hits to the window of keys[i] (the windows of Allow: one
// starts at a key's first hit and lasts window), all in one round trip,
// and returns each key's count in its current window, these hits included,
// and the time left until that window ends. store/memory.RateLimiter and
// store/redis.RateLimiter implement it.
//
// The HTTP rate limit (Config.ThrottleLimit) is local-first when
// Config.Limiter is a HitCounter (store/memory and store/redis
// RateLimiters are) and Config.ThrottleSync is not negative.
//
// Each instance keeps, per key (route and client IP), the count that the
// shared Limiter last reported, the hits it admitted since, and the end of
// the key's window as the Limiter reported it. A request is answered from
// that state, without a round trip: admitted while the known count plus
// the local hits is below ThrottleLimit, else refused 429 RATE_LIMITED with
// Retry-After the time left in the window. Every ThrottleSync (default
// 100 ms) the admitted hits of all the keys hit since the last sync go to
// the Limiter in one batch (HitCounter.CountHits: one Redis pipeline), and
// its replies, the shared counts with the hits of every instance, replace
// the known counts. A key's first request in a window (its warm-up) asks
// the Limiter synchronously, counting that hit, so that a client already
// over the limit on another instance is refused at once; that is the only
// round trip a request ever waits for.
//
// Accuracy. One instance alone is exact: every hit passes through its
// state. With N instances sharing one Redis, each admits hits against a
// count that is at most one sync (plus the batch's round trip) old, so a
// window admits at most ThrottleLimit plus what the other instances admit
// for the key in one ThrottleSync interval before they learn the shared
// count, and never more than N × ThrottleLimit. A client that spreads its
// requests over the instances thus gets at most one interval's worth of
// extra requests per instance and window; one that sticks to one instance
// (keep-alive, the common case) gets none. Refused requests are not sent
// to the Limiter: in a fixed window they change nothing.
//
// This is the throttle of the REST API only, which protects capacity, not
// secrets. The limits that protect accounts (sign-in codes, wrong code
// guesses in package auth, chat's and the handshake's own limits) call
// Limiter.Allow directly and stay exact: one round trip each.
//
// When the Limiter fails (Redis down): a warm-up that fails admits the
// request (the REST API is never taken down by its limiter, as before) and
// starts a local window of ThrottleWindow, so that the instance still
// enforces ThrottleLimit on its own; batches that fail are kept and sent
// again at the next sync until their window ends. No request waits for
// the Limiter longer than its own timeout (the Redis client's command
// timeout and circuit breaker), and warmed keys wait for nothing.
//
// At most 65,536 keys are tracked per instance; beyond them (after sweeping
// the ended windows) a request asks the Limiter synchronously, as with a
// Limiter that is no HitCounter.
type HitCounter interface {
	Limiter
	CountHits(ctx context.Context, keys []string, hits []int64, window time.Duration) (counts []int64, left []time.Duration, err error)
}

// DefaultThrottleSync is the default of Config.ThrottleSync.
const DefaultThrottleSync = 100 * time.Millisecond

// maxThrottleKeys bounds the keys the local throttle tracks.
const maxThrottleKeys = 1 << 16

// syncTimeout bounds one batch sent to the HitCounter.
const syncTimeout = 5 * time.Second

// localThrottle is the local-first HTTP rate limit described at
// HitCounter.
type localThrottle struct {
	counter  HitCounter
	limit    int64
	window   time.Duration
	interval time.Duration
	clock    rv.Clock
	log      *slog.Logger
	maxKeys  int

	mu        sync.Mutex
	keys      map[string]*throttleState
	dirty     []*throttleState // keys with pending hits, each once
	scheduled bool             // a sync is due or running
	closed    bool
	timer     *time.Timer
	syncs     sync.WaitGroup
	swept     time.Time // the last sweep
}

// throttleState is one key's view of its shared window.
type throttleState struct {
	key      string
	ends     time.Time // the window's end, as the Limiter last told
	known    int64     // the shared count, as the Limiter last told
	pending  int64     // hits admitted here and not sent yet
	inflight int64     // hits being sent
	dirty    bool      // in localThrottle.dirty
	// warming is closed when the key's warm-up is answered; nil after.
	warming chan struct{}
}

func newLocalThrottle(counter HitCounter, limit int, window, interval time.Duration, clock rv.Clock, log *slog.Logger) *localThrottle {
	return &localThrottle{
		counter: counter, limit: int64(limit), window: window, interval: interval,
		clock: clock, log: log, maxKeys: maxThrottleKeys,
		keys: make(map[string]*throttleState),
	}
}

// allow counts one request for key and reports whether it is admitted, or
// else the time after which to retry.
func (l *localThrottle) allow(ctx context.Context, key []byte) (bool, time.Duration) {
	l.mu.Lock()
	s := l.keys[string(key)]
	if s != nil && s.warming != nil {
		// Another request of this key is warming it: its answer serves
		// this one too.
		warming := s.warming
		l.mu.Unlock()
		select {
		case <-warming:
		case <-ctx.Done():
			return true, 0 // the request is gone anyway
		}
		l.mu.Lock()
		s = l.keys[string(key)]
	}
	now := l.clock.Now()
	if s != nil && s.warming == nil && now.Before(s.ends) {
		ok, after := l.admit(s, now)
		l.mu.Unlock()
		return ok, after
	}
	if s != nil {
		delete(l.keys, s.key) // ended, or its warm-up gave up
	}
	if len(l.keys) >= l.maxKeys {
		l.sweep(now)
	}
	if len(l.keys) >= l.maxKeys {
		// Untracked: the Limiter's answer, or fail open.
		l.mu.Unlock()
		ok, after, err := l.counter.Allow(ctx, string(key), int(min(l.limit, int64(maxInt))), l.window)
		if err != nil {
			l.log.WarnContext(ctx, "rate limiter failed; request allowed", "err", err)
			return true, 0
		}
		return ok, after
	}
	s = &throttleState{key: string(key), warming: make(chan struct{})}
	l.keys[s.key] = s
	l.mu.Unlock()
	return l.warm(ctx, s, now)
}

// maxInt is the largest int.
const maxInt = int(^uint(0) >> 1)

// admit answers from s's state; l.mu is held.
func (l *localThrottle) admit(s *throttleState, now time.Time) (bool, time.Duration) {
	if s.known+s.inflight+s.pending < l.limit {
		s.pending++
		l.markDirty(s)
		return true, 0
	}
	// The window's end was measured after its reply: never more than a
	// window away.
	return false, min(s.ends.Sub(now), l.window)
}

// warm asks the Limiter for the first request of s's key in a window; the
// other requests of the key wait for it.
func (l *localThrottle) warm(ctx context.Context, s *throttleState, now time.Time) (bool, time.Duration) {
	counts, left, err := l.counter.CountHits(ctx, []string{s.key}, []int64{1}, l.window)
	l.mu.Lock()
	defer l.mu.Unlock()
	close(s.warming)
	s.warming = nil
	if err != nil {
		l.log.WarnContext(ctx, "rate limiter failed; request allowed and counted locally", "err", err)
		s.ends = now.Add(l.window)
		return l.admit(s, now)
	}
	s.known, s.ends = counts[0], now.Add(left[0])
	if counts[0] <= l.limit {
		return true, 0
	}
	return false, left[0]
}

// markDirty queues s for the next sync; l.mu is held.
func (l *localThrottle) markDirty(s *throttleState) {
	if !s.dirty {
		s.dirty = true
		l.dirty = append(l.dirty, s)
	}
	if !l.scheduled && !l.closed {
		l.scheduled = true
		l.syncs.Add(1)
		l.timer = time.AfterFunc(l.interval, l.sync)
	}
}

// sync sends the pending hits of every dirty key in one batch and takes
// the shared counts of the reply. At most one sync runs at a time.
func (l *localThrottle) sync() {
	defer l.syncs.Done()
	l.flush(context.Background())
	l.mu.Lock()
	l.scheduled = false
	if len(l.dirty) > 0 && !l.closed {
		l.scheduled = true
		l.syncs.Add(1)
		l.timer = time.AfterFunc(l.interval, l.sync)
	}
	l.mu.Unlock()
}

// flush sends the pending hits once.
func (l *localThrottle) flush(ctx context.Context) {
	l.mu.Lock()
	batch := l.dirty
	l.dirty = nil
	keys := make([]string, 0, len(batch))
	hits := make([]int64, 0, len(batch))
	now := l.clock.Now()
	kept := batch[:0]
	for _, s := range batch {
		s.dirty = false
		if s.pending == 0 || !now.Before(s.ends) {
			// The window ended here: its hits count no more.
			s.pending = 0
			continue
		}
		kept = append(kept, s)
		keys = append(keys, s.key)
		hits = append(hits, s.pending)
		s.inflight += s.pending
		s.pending = 0
	}
	batch = kept
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	counts, left, err := l.counter.CountHits(ctx, keys, hits, l.window)
	cancel()
	if err != nil {
		l.log.Warn("rate limiter: cannot send the local counts; they are kept for the next sync", "keys", len(keys), "err", err)
	}
	now = l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range batch {
		s.inflight -= hits[i]
		if err != nil {
			s.pending += hits[i]
			if l.keys[s.key] == s {
				l.markDirty(s)
			}
			continue
		}
		s.known, s.ends = counts[i], now.Add(left[i])
	}
	if now.Sub(l.swept) >= time.Second {
		l.sweep(now)
	}
}

// sweep forgets the keys whose window ended with nothing to send; l.mu is
// held.
func (l *localThrottle) sweep(now time.Time) {
	l.swept = now
	for k, s := range l.keys {
		if s.warming == nil && !now.Before(s.ends) && s.pending == 0 && s.inflight == 0 {
			delete(l.keys, k)
		}
	}
}

// close stops the syncs and sends what is pending, within ctx.
func (l *localThrottle) close(ctx context.Context) {
	l.mu.Lock()
	l.closed = true
	if l.timer != nil && l.timer.Stop() {
		l.scheduled = false
		l.syncs.Done()
	}
	l.mu.Unlock()
	l.syncs.Wait()
	l.flush(ctx)
}
