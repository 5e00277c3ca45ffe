package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// maxObservedLead bounds how far ahead of this instance's clock a cut-off
// read from the CutoffStore may push its stamps (see stamper.observe): an
// instance whose clock is badly wrong must not drag the others along.
const maxObservedLead = time.Second

// cutoffWarnInterval is the least time between two log lines about a
// failing CutoffStore.
const cutoffWarnInterval = 10 * time.Second

// cutoffSweepInterval is the least time between two sweeps of the local
// cut-off cache.
const cutoffSweepInterval = time.Minute

// stamper issues the stamps of an instance: the issue stamps of access
// tokens and the cut-offs of LogoutAll and DeleteAccount, in Unix
// microseconds. Stamps are strictly increasing in the order of the calls
// that take them, whatever the clock does (a frozen clock, a step back),
// so on one instance a token stamped before a cut-off is always below it
// and one stamped after is always above it.
type stamper struct {
	clock rv.Clock
	last  atomic.Int64
}

// next returns a stamp greater than every stamp returned before and than
// every value passed to advance, and at least the clock's time.
func (st *stamper) next() int64 {
	now := st.clock.Now().UnixMicro()
	for {
		last := st.last.Load()
		v := max(now, last+1)
		if st.last.CompareAndSwap(last, v) {
			return v
		}
	}
}

// advance makes every later stamp greater than v.
func (st *stamper) advance(v int64) {
	for {
		last := st.last.Load()
		if last >= v || st.last.CompareAndSwap(last, v) {
			return
		}
	}
}

// observe advances past a cut-off read from the store (set by any
// instance), so that tokens this instance issues from now on are above it
// even when this instance's clock runs behind the one that set it; by at
// most maxObservedLead ahead of this instance's clock.
func (st *stamper) observe(cutoff int64) {
	st.advance(min(cutoff, st.clock.Now().Add(maxObservedLead).UnixMicro()))
}

// cutoffCache holds the cut-offs this instance set or read, each until
// every access token it cuts off has expired, so that they hold while the
// CutoffStore does not answer.
type cutoffCache struct {
	mu        sync.Mutex
	entries   map[string]cachedCutoff
	nextSweep time.Time
}

type cachedCutoff struct {
	at    int64     // the cut-off, Unix microseconds
	until time.Time // when every token it cuts off has expired
}

// put records at (Unix microseconds) as userID's cut-off until until,
// keeping the later of it and the one cached.
func (c *cutoffCache) put(userID string, at int64, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]cachedCutoff)
	}
	if !now.Before(c.nextSweep) {
		for id, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, id)
			}
		}
		c.nextSweep = now.Add(cutoffSweepInterval)
	}
	if old, ok := c.entries[userID]; ok && now.Before(old.until) {
		at = max(at, old.at)
		if old.until.After(until) {
			until = old.until
		}
	}
	c.entries[userID] = cachedCutoff{at: at, until: until}
}

// get returns userID's cached cut-off, or 0.
func (c *cutoffCache) get(userID string, now time.Time) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[userID]
	if !ok || !now.Before(e.until) {
		return 0
	}
	return e.at
}

// warnLimiter lets one log line through per interval and counts the
// others.
type warnLimiter struct {
	mu         sync.Mutex
	next       time.Time
	suppressed int
}

// allow reports whether a line may be logged at now, and how many were
// suppressed since the last one.
func (w *warnLimiter) allow(now time.Time, interval time.Duration) (bool, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Before(w.next) {
		w.suppressed++
		return false, 0
	}
	n := w.suppressed
	w.suppressed = 0
	w.next = now.Add(interval)
	return true, n
}

// cacheUntil is when every access token cut off by a cut-off at (Unix
// microseconds) has expired: tokens are issued before it and live
// AccessTTL; a second more allows for clock skew between instances.
func (s *Service) cacheUntil(at int64, now time.Time) time.Time {
	t := time.UnixMicro(at)
	if now.After(t) {
		t = now
	}
	return t.Add(s.cfg.AccessTTL + time.Second)
}

// cutoff returns userID's cut-off in Unix microseconds (0 when none): the
// later of the CutoffStore's and the locally cached one. A cut-off read
// from the store is cached and observed by the stamper. When the store
// fails, cutoff fails open: it logs a warning (rate-limited) and returns
// the cached cut-off alone. Only a canceled or timed-out ctx is an error.
func (s *Service) cutoff(ctx context.Context, userID string) (int64, error) {
	now := s.cfg.Clock.Now()
	local := s.cutoffs.get(userID, now)
	stored, err := s.cfg.Cutoffs.Cutoff(ctx, userID)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return 0, ctxError(cerr)
		}
		s.warnCutoffs(ctx, "read", err)
		return local, nil
	}
	if stored.IsZero() {
		return local, nil
	}
	at := stored.UnixMicro()
	s.stamps.observe(at)
	if at > local {
		s.cutoffs.put(userID, at, s.cacheUntil(at, now), now)
	}
	return max(at, local), nil
}

// cutOff sets userID's cut-off: above every stamp this instance issued
// before and every cut-off it knows of, on a whole millisecond (the
// precision of CutoffStores), and makes every later stamp of this instance
// greater. It is cached before the store is written, so it holds on this
// instance even if the write fails; the write's error is returned.
func (s *Service) cutOff(ctx context.Context, userID string) error {
	if _, err := s.cutoff(ctx, userID); err != nil {
		return err
	}
	at := s.stamps.next()
	at = (at + 999) / 1000 * 1000 // round up to the millisecond
	s.stamps.advance(at)
	now := s.cfg.Clock.Now()
	until := s.cacheUntil(at, now)
	s.cutoffs.put(userID, at, until, now)
	if err := s.cfg.Cutoffs.SetCutoff(ctx, userID, time.UnixMicro(at).UTC(), until.Sub(now)); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return ctxError(cerr)
		}
		s.warnCutoffs(ctx, "write", err)
		return fmt.Errorf("auth: set the access-token cut-off: %w", err)
	}
	return nil
}

// warnCutoffs logs a CutoffStore failure at WARN, at most once per
// cutoffWarnInterval.
func (s *Service) warnCutoffs(ctx context.Context, op string, err error) {
	ok, suppressed := s.cutoffWarn.allow(s.cfg.Clock.Now(), cutoffWarnInterval)
	if !ok {
		return
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn,
		"rendezvous: the access-token cut-off store failed; accepting access tokens without a cut-off known to this instance",
		slog.String("op", op), slog.Any("err", err), slog.Int("suppressed", suppressed))
}

// ctxError turns a context error into the shared sentinel.
func ctxError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return rv.ErrTimeout.Wrap(err)
	}
	return rv.ErrCanceled.Wrap(err)
}
