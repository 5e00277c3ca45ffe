package auth_test

import (
	"context"
	"errors"
	"github.com/rendezvous-go/rendezvous/internal/logbuf"
	"strings"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

// TestLogoutAllWithinOneClockTick runs sign-up, refresh, logout-all,
// login and account deletion with the clock frozen: every step happens
// within one tick, and still every token issued before a LogoutAll or
// DeleteAccount is refused and every token issued after works.
func TestLogoutAllWithinOneClockTick(t *testing.T) {
	// The fake clock never moves in this test; no send limits, since it
	// logs in many times.
	e := newEnv(t, func(c *auth.Config) { c.Limiter = nil })
	for i := range 50 {
		s := e.signup(t)
		r, err := e.svc.Refresh(e.ctx, s.RefreshToken)
		if err != nil {
			t.Fatalf("round %d: Refresh: %v", i, err)
		}
		if err := e.svc.LogoutAll(e.ctx, s.User.ID); err != nil {
			t.Fatalf("round %d: LogoutAll: %v", i, err)
		}
		for _, tok := range []string{s.AccessToken, r.AccessToken} {
			_, err := e.svc.Authenticate(e.ctx, tok)
			wantErr(t, "a token issued before LogoutAll in the same tick", err, auth.ErrTokenRevoked)
		}
	}

	// Login after a LogoutAll in the same tick works, and a second
	// LogoutAll in that tick cuts it off again.
	s := e.signup(t)
	e.verify(t, s.User.ID, auth.ChannelEmail, "ada@example.com")
	for i := range 20 {
		if err := e.svc.LogoutAll(e.ctx, s.User.ID); err != nil {
			t.Fatal(err)
		}
		in := e.login(t, auth.ChannelEmail, "ada@example.com")
		e.authOK(t, in.AccessToken, s.User.ID)
		r, err := e.svc.Refresh(e.ctx, in.RefreshToken)
		if err != nil {
			t.Fatalf("round %d: refresh of a family started after LogoutAll: %v", i, err)
		}
		e.authOK(t, r.AccessToken, s.User.ID)
		if err := e.svc.LogoutAll(e.ctx, s.User.ID); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{in.AccessToken, r.AccessToken} {
			_, err := e.svc.Authenticate(e.ctx, tok)
			wantErr(t, "a token issued between two LogoutAlls of one tick", err, auth.ErrTokenRevoked)
		}
	}

	// Account deletion in the same tick as the sign-up.
	d := e.signup(t)
	if err := e.svc.DeleteAccount(e.ctx, d.User.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Authenticate(e.ctx, d.AccessToken)
	wantErr(t, "the token of a deleted account", err, auth.ErrTokenRevoked)
}

// TestLogoutAllAcrossInstancesWithinOneClockTick runs two Services on
// shared stores with one frozen clock (perfectly synchronised instances).
func TestLogoutAllAcrossInstancesWithinOneClockTick(t *testing.T) {
	clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 100_000_000, time.UTC))
	store, cutoffs, box := memory.NewAuthStore(clock), memory.NewCutoffStore(clock), &outbox{}
	newSvc := func() *auth.Service {
		svc, err := auth.New(auth.Config{Store: store, Cutoffs: cutoffs, Sender: box, Secret: testSecret, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b := newSvc(), newSvc()
	ctx := context.Background()
	s, err := a.SignupAnonymous(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartVerification(ctx, s.User.ID, auth.ChannelEmail, "ada@example.com", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ConfirmVerification(ctx, s.User.ID, auth.ChannelEmail, "ada@example.com", box.last(t, "ada@example.com"), "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		// A token issued by b, then a LogoutAll on a: refused on both.
		before, err := b.Refresh(ctx, s.RefreshToken)
		if err != nil {
			t.Fatalf("round %d: Refresh on b: %v", i, err)
		}
		if err := a.LogoutAll(ctx, s.User.ID); err != nil {
			t.Fatal(err)
		}
		for name, svc := range map[string]*auth.Service{"a": a, "b": b} {
			_, err := svc.Authenticate(ctx, before.AccessToken)
			wantErr(t, "on "+name+", a token b issued before a's LogoutAll", err, auth.ErrTokenRevoked)
		}
		// A login on b after it: accepted on both.
		if err := b.StartLogin(ctx, auth.ChannelEmail, "ada@example.com", "203.0.113.7"); err != nil {
			t.Fatal(err)
		}
		s, err = b.Login(ctx, auth.ChannelEmail, "ada@example.com", box.last(t, "ada@example.com"), "203.0.113.7")
		if err != nil {
			t.Fatalf("round %d: Login on b: %v", i, err)
		}
		for name, svc := range map[string]*auth.Service{"a": a, "b": b} {
			if _, err := svc.Authenticate(ctx, s.AccessToken); err != nil {
				t.Fatalf("round %d: on %s, a token b issued after a's LogoutAll: %v", i, name, err)
			}
		}
	}
}

// TestConcurrentLogoutAllAndRefresh races refreshes of one family against
// a LogoutAll: a refresh that succeeded rotated the token before the
// family was revoked, so its access token must be refused.
func TestConcurrentLogoutAllAndRefresh(t *testing.T) {
	// With a grace window, the first refresh token may be presented again
	// and again, so the refreshes keep succeeding until the revocation.
	e := newEnv(t, func(c *auth.Config) { c.RefreshGrace = time.Minute })
	for range 5 {
		s := e.signup(t)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			tokens  []string
			started = make(chan struct{})
			once    sync.Once
		)
		for range 4 {
			wg.Go(func() {
				for range 100 {
					r, err := e.svc.Refresh(e.ctx, s.RefreshToken)
					if err != nil {
						once.Do(func() { close(started) })
						return
					}
					mu.Lock()
					tokens = append(tokens, r.AccessToken)
					mu.Unlock()
					once.Do(func() { close(started) })
				}
			})
		}
		<-started
		if err := e.svc.LogoutAll(e.ctx, s.User.ID); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if len(tokens) == 0 {
			t.Fatal("no refresh succeeded before LogoutAll")
		}
		for _, tok := range tokens {
			_, err := e.svc.Authenticate(e.ctx, tok)
			wantErr(t, "a token from a refresh that won the race against LogoutAll", err, auth.ErrTokenRevoked)
		}
	}
}

// flakyCutoffs is a CutoffStore that fails while down.
type flakyCutoffs struct {
	auth.CutoffStore
	mu    sync.Mutex
	down  bool
	calls int
}

var errCutoffsDown = rv.ErrStoreUnavailable.Wrap(errors.New("dial tcp 127.0.0.1:6379: connection refused"))

func (f *flakyCutoffs) setDown(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *flakyCutoffs) fail() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.down
}

func (f *flakyCutoffs) SetCutoff(ctx context.Context, userID string, at time.Time, ttl time.Duration) error {
	if f.fail() {
		return errCutoffsDown
	}
	return f.CutoffStore.SetCutoff(ctx, userID, at, ttl)
}

func (f *flakyCutoffs) Cutoff(ctx context.Context, userID string) (time.Time, error) {
	if f.fail() {
		return time.Time{}, errCutoffsDown
	}
	return f.CutoffStore.Cutoff(ctx, userID)
}

func TestCutoffStoreOutage(t *testing.T) {
	clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 100_000_000, time.UTC))
	shared := memory.NewCutoffStore(clock)
	flaky := &flakyCutoffs{CutoffStore: shared}
	var logs logbuf.Buffer
	store := memory.NewAuthStore(clock)
	e := newEnv(t, func(c *auth.Config) {
		c.Store = store
		c.Clock = clock
		c.Cutoffs = flaky
		c.Logger = newTextLogger(&logs)
	})
	// Another instance on the same stores, whose cut-offs this one reads.
	other, err := auth.New(auth.Config{Store: store, Cutoffs: shared, Secret: testSecret, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}

	cutHere := e.signup(t)     // logged out everywhere on this instance
	cutThere := e.signup(t)    // logged out everywhere on the other instance
	untouched := e.signup(t)   // no cut-off at all
	cutInOutage := e.signup(t) // logged out everywhere during the outage
	clock.Advance(time.Second)
	if err := e.svc.LogoutAll(e.ctx, cutHere.User.ID); err != nil {
		t.Fatal(err)
	}
	if err := other.LogoutAll(e.ctx, cutThere.User.ID); err != nil {
		t.Fatal(err)
	}
	// This instance reads the other's cut-off once while the store is up.
	_, err = e.svc.Authenticate(e.ctx, cutThere.AccessToken)
	wantErr(t, "a token cut off by the other instance", err, auth.ErrTokenRevoked)
	clock.Advance(time.Second)
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("warnings while the store is up: %s", logs.String())
	}

	flaky.setDown(true)
	// Fail open for a user without a known cut-off.
	for range 100 {
		if _, err := e.svc.Authenticate(e.ctx, untouched.AccessToken); err != nil {
			t.Fatalf("Authenticate during the outage: %v", err)
		}
	}
	// The cut-offs this instance set or read stand.
	for name, tok := range map[string]string{"set here": cutHere.AccessToken, "read from the other": cutThere.AccessToken} {
		_, err := e.svc.Authenticate(e.ctx, tok)
		wantErr(t, "during the outage, a cut-off "+name, err, auth.ErrTokenRevoked)
	}
	// A LogoutAll during the outage reports the failure but holds here.
	if err := e.svc.LogoutAll(e.ctx, cutInOutage.User.ID); !errors.Is(err, rv.ErrStoreUnavailable) {
		t.Errorf("LogoutAll during the outage: %v, want the store's error", err)
	}
	_, err = e.svc.Authenticate(e.ctx, cutInOutage.AccessToken)
	wantErr(t, "a token cut off during the outage", err, auth.ErrTokenRevoked)
	// Sessions issued during the outage work.
	r, err := e.svc.Refresh(e.ctx, untouched.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh during the outage: %v", err)
	}
	e.authOK(t, r.AccessToken, untouched.User.ID)

	// One rate-limited WARN line for the whole burst of failures.
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d WARN lines for a burst of failures, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "cut-off") {
		t.Errorf("the WARN line does not say what failed: %s", logs.String())
	}
	clock.Advance(time.Minute)
	if _, err := e.svc.Authenticate(e.ctx, untouched.AccessToken); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 2 {
		t.Errorf("%d WARN lines a minute into the outage, want 2:\n%s", n, logs.String())
	}

	// A canceled request is not an outage: it fails, without a warning.
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	flaky.setDown(false)
	canceled := &cancelCutoffs{}
	c, err := auth.New(auth.Config{Store: store, Cutoffs: canceled, Secret: testSecret, Clock: clock, Logger: newTextLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.SignupAnonymous(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := strings.Count(logs.String(), "level=WARN")
	_, err = c.Authenticate(ctx, s.AccessToken)
	wantErr(t, "Authenticate with a canceled context", err, rv.ErrCanceled)
	if strings.Count(logs.String(), "level=WARN") != before {
		t.Errorf("a canceled request was logged as an outage: %s", logs.String())
	}
}

// cancelCutoffs answers with the context's error.
type cancelCutoffs struct{}

func (cancelCutoffs) SetCutoff(ctx context.Context, _ string, _ time.Time, _ time.Duration) error {
	return ctx.Err()
}

func (cancelCutoffs) Cutoff(ctx context.Context, _ string) (time.Time, error) {
	return time.Time{}, ctx.Err()
}
