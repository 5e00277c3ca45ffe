package matchmaking_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

// wallet is a fake token wallet: balances, and a ledger of debits keyed by
// debit key, each refunded at most once.
type wallet struct {
	mu      sync.Mutex
	balance map[string]int
	initial map[string]int
	debits  map[string]*debit
	// failRefunds makes Refund fail while positive, counting down.
	failRefunds int
	refundCalls int
}

type debit struct {
	user     string
	refunded bool
}

var errRefundDown = errors.New("wallet: refund unavailable")

func newWallet() *wallet {
	return &wallet{balance: map[string]int{}, initial: map[string]int{}, debits: map[string]*debit{}}
}

// fund gives userID n tokens.
func (w *wallet) fund(userID string, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.balance[userID] += n
	w.initial[userID] += n
}

func (w *wallet) Debit(_ context.Context, userID, key string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.debits[key]; ok {
		return nil
	}
	if w.balance[userID] < 1 {
		return billing.ErrInsufficientTokens
	}
	w.balance[userID]--
	w.debits[key] = &debit{user: userID}
	return nil
}

func (w *wallet) Refund(_ context.Context, key string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.refundCalls++
	if w.failRefunds > 0 {
		w.failRefunds--
		return errRefundDown
	}
	d, ok := w.debits[key]
	if !ok || d.refunded {
		return nil
	}
	d.refunded = true
	w.balance[d.user]++
	return nil
}

func (w *wallet) setFailRefunds(n int) {
	w.mu.Lock()
	w.failRefunds = n
	w.mu.Unlock()
}

// ledger returns userID's debits and how many of them were refunded.
func (w *wallet) ledger(userID string) (debits, refunds int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range w.debits {
		if d.user == userID {
			debits++
			if d.refunded {
				refunds++
			}
		}
	}
	return debits, refunds
}

// check fails t unless every balance is its initial value less the
// user's unrefunded debits.
func (w *wallet) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	spent := map[string]int{}
	for _, d := range w.debits {
		if !d.refunded {
			spent[d.user]++
		}
	}
	for u, b := range w.balance {
		if b != w.initial[u]-spent[u] || b < 0 {
			t.Errorf("wallet of %s: balance %d, initial %d, spent %d", u, b, w.initial[u], spent[u])
		}
	}
}

// recorder collects the events and the pairs handed to OnPair.
type recorder struct {
	mu     sync.Mutex
	events []rv.Event
	pairs  []matchmaking.Pair
	// fail makes OnPair fail while it returns true.
	fail func(p matchmaking.Pair) bool
	// paired is signalled on each successful OnPair, when set.
	paired chan matchmaking.Pair
}

func (r *recorder) Notify(_ context.Context, events ...rv.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
	return nil
}

func (r *recorder) OnPair(_ context.Context, p matchmaking.Pair) error {
	r.mu.Lock()
	r.pairs = append(r.pairs, p)
	fail := r.fail
	r.mu.Unlock()
	if fail != nil && fail(p) {
		return errors.New("session start failed")
	}
	if r.paired != nil {
		r.paired <- p
	}
	return nil
}

func (r *recorder) onPairCalls() []matchmaking.Pair {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]matchmaking.Pair(nil), r.pairs...)
}

func (r *recorder) allEvents() []rv.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rv.Event(nil), r.events...)
}

// fixture is a Service on a memory store, a fake clock and a fake wallet.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	clock  *fakeclock.Clock
	store  matchmaking.Store
	wallet *wallet
	rec    *recorder
	svc    *matchmaking.Service
	sched  *rv.Scheduler
	busy   map[string]string
	busyMu sync.Mutex
}

var epoch = time.Date(2026, 2, 14, 20, 0, 0, 0, time.UTC)

// newFixture returns a fixture; edit changes its Config before New.
func newFixture(t *testing.T, edit func(*matchmaking.Config)) *fixture {
	t.Helper()
	f := &fixture{
		t:      t,
		ctx:    context.Background(),
		clock:  fakeclock.New(epoch),
		store:  memory.NewQueueStore(),
		wallet: newWallet(),
		rec:    &recorder{},
		busy:   map[string]string{},
	}
	sched, err := rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore(), Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.sched = sched
	cfg := f.config()
	if edit != nil {
		edit(&cfg)
	}
	f.store = cfg.Store
	f.svc = f.service(cfg)
	return f
}

// config returns the fixture's Config.
func (f *fixture) config() matchmaking.Config {
	return matchmaking.Config{
		Store:  f.store,
		Debit:  f.wallet.Debit,
		Refund: f.wallet.Refund,
		// The session feature: a started session keeps its users busy.
		OnPair: func(ctx context.Context, p matchmaking.Pair) error {
			if err := f.rec.OnPair(ctx, p); err != nil {
				return err
			}
			f.busyMu.Lock()
			defer f.busyMu.Unlock()
			for _, m := range p.Members {
				f.busy[m.UserID] = p.SessionID
			}
			return nil
		},
		Notifier:  f.rec,
		Scheduler: f.sched,
		Clock:     f.clock,
		Busy: func(_ context.Context, userID string) (string, bool, error) {
			f.busyMu.Lock()
			defer f.busyMu.Unlock()
			sid, ok := f.busy[userID]
			return sid, ok, nil
		},
	}
}

// service returns a Service of cfg; the first one is registered for its
// jobs on the fixture's scheduler.
func (f *fixture) service(cfg matchmaking.Config) *matchmaking.Service {
	f.t.Helper()
	svc, err := matchmaking.New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	if f.svc == nil {
		f.sched.Handle(matchmaking.GraceJobKind, svc.HandleGrace)
		f.sched.Handle(matchmaking.RefundJobKind, svc.HandleRefund)
	}
	return svc
}

func (f *fixture) join(userID, region string, prefs string) matchmaking.JoinResult {
	f.t.Helper()
	res, err := f.svc.Join(f.ctx, userID, region, json.RawMessage(prefs))
	if err != nil {
		f.t.Fatalf("Join(%s): %v", userID, err)
	}
	return res
}

func (f *fixture) status(userID string) matchmaking.StatusResult {
	f.t.Helper()
	res, err := f.svc.Status(f.ctx, userID)
	if err != nil {
		f.t.Fatalf("Status(%s): %v", userID, err)
	}
	return res
}

func (f *fixture) tick() int {
	f.t.Helper()
	n, err := f.svc.Tick(f.ctx)
	if err != nil {
		f.t.Fatalf("Tick: %v", err)
	}
	return n
}

func (f *fixture) runDue() {
	f.t.Helper()
	if _, err := f.sched.RunDue(f.ctx); err != nil {
		f.t.Fatalf("RunDue: %v", err)
	}
}
