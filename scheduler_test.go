package rendezvous_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/rendezvous-go/rendezvous/internal/logbuf"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

// wait is how long a test waits for an event it expects before failing.
const wait = 30 * time.Second

var schedBase = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// spyStore is a JobStore that reports its calls and can fail them.
type spyStore struct {
	rv.JobStore
	claims   chan struct{} // a value per Claim call, when not full
	extends  chan time.Time
	failures atomic.Int32 // Claims still to fail
	failDone bool         // Complete and Retry fail with STORE_UNAVAILABLE
}

func newSpy() *spyStore {
	return &spyStore{JobStore: memory.NewJobStore(), claims: make(chan struct{}, 1), extends: make(chan time.Time, 16)}
}

func (s *spyStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]rv.Claim, error) {
	select {
	case s.claims <- struct{}{}:
	default:
	}
	if s.failures.Add(-1) >= 0 {
		return nil, rv.ErrStoreUnavailable
	}
	return s.JobStore.Claim(ctx, now, lease, limit)
}

func (s *spyStore) Extend(ctx context.Context, c rv.Claim, until time.Time) error {
	err := s.JobStore.Extend(ctx, c, until)
	if err == nil {
		select {
		case s.extends <- until:
		default:
		}
	}
	return err
}

func (s *spyStore) Complete(ctx context.Context, c rv.Claim) error {
	if s.failDone {
		return rv.ErrStoreUnavailable
	}
	return s.JobStore.Complete(ctx, c)
}

// harness is a Scheduler on a spy memory store and a fake clock.
type harness struct {
	t     *testing.T
	clock *fakeclock.Clock
	store *spyStore
	logs  *logbuf.Buffer
	s     *rv.Scheduler
}

func newHarness(t *testing.T, cfg rv.SchedulerConfig) *harness {
	t.Helper()
	return newHarnessOn(t, cfg, newSpy(), fakeclock.New(schedBase))
}

// share returns a second runner on h's store and clock.
func (h *harness) share(cfg rv.SchedulerConfig) *harness {
	h.t.Helper()
	return newHarnessOn(h.t, cfg, h.store, h.clock)
}

func newHarnessOn(t *testing.T, cfg rv.SchedulerConfig, store *spyStore, clock *fakeclock.Clock) *harness {
	t.Helper()
	h := &harness{t: t, clock: clock, store: store, logs: &logbuf.Buffer{}}
	cfg.Store = store
	cfg.Clock = clock
	cfg.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	s, err := rv.NewScheduler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	return h
}

func (h *harness) schedule(key, kind string, due time.Duration) {
	h.t.Helper()
	if err := h.s.Schedule(context.Background(), rv.Job{Key: key, Kind: kind, Due: schedBase.Add(due), Payload: []byte(key)}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) runDue(want int) {
	h.t.Helper()
	n, err := h.s.RunDue(context.Background())
	if err != nil || n != want {
		h.t.Fatalf("RunDue at +%v = %d, %v; want %d jobs", h.clock.Now().Sub(schedBase), n, err, want)
	}
}

// run starts Run and returns a function that stops it and waits for it.
func (h *harness) run() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				h.t.Errorf("Run = %v, want nil", err)
			}
		})
	}
	h.t.Cleanup(stop)
	return stop
}

func (h *harness) stored(key string) bool {
	h.t.Helper()
	ok, err := h.s.Cancel(context.Background(), key)
	if err != nil {
		h.t.Fatal(err)
	}
	return ok
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("%s did not happen within %v", what, wait)
		panic("unreachable")
	}
}

func TestSchedulerFiresOnce(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{})
	var calls []rv.Job
	h.s.Handle("session.end", func(_ context.Context, job rv.Job) error {
		calls = append(calls, job)
		return nil
	})
	h.schedule("session:1:end", "session.end", 45*time.Second)
	h.runDue(0)
	h.clock.Advance(45*time.Second - time.Millisecond)
	h.runDue(0)
	h.clock.Advance(time.Millisecond)
	h.runDue(1)
	h.runDue(0)
	h.clock.Advance(time.Hour)
	h.runDue(0)
	if len(calls) != 1 || calls[0].Key != "session:1:end" || calls[0].Attempt != 1 || string(calls[0].Payload) != "session:1:end" {
		t.Fatalf("handler calls = %+v, want the job once, attempt 1", calls)
	}
	if h.stored("session:1:end") {
		t.Error("the job is still stored after it ran")
	}
}

func TestSchedulerHandlerErrorRetried(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * 10 * time.Second }})
	var attempts []int
	h.s.Handle("k", func(_ context.Context, job rv.Job) error {
		attempts = append(attempts, job.Attempt)
		if job.Attempt < 3 {
			return errors.New("peer unreachable")
		}
		return nil
	})
	h.schedule("j", "k", 0)
	h.runDue(1) // attempt 1 fails: retry in 10 s
	h.clock.Advance(10*time.Second - time.Millisecond)
	h.runDue(0)
	h.clock.Advance(time.Millisecond)
	h.runDue(1) // attempt 2 fails: retry in 20 s
	h.clock.Advance(19 * time.Second)
	h.runDue(0)
	h.clock.Advance(time.Second)
	h.runDue(1) // attempt 3 succeeds
	h.clock.Advance(time.Hour)
	h.runDue(0)
	if fmt.Sprint(attempts) != "[1 2 3]" {
		t.Errorf("attempts = %v, want [1 2 3]", attempts)
	}
	if logs := h.logs.String(); strings.Count(logs, "job failed; retrying") != 2 || !strings.Contains(logs, "peer unreachable") {
		t.Errorf("logs = %s; want two failures with their error", logs)
	}
}

func TestSchedulerPanicRecovered(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{})
	calls := 0
	h.s.Handle("k", func(context.Context, rv.Job) error {
		calls++
		if calls == 1 {
			panic("nil map")
		}
		return nil
	})
	h.schedule("j", "k", 0)
	h.runDue(1)
	if logs := h.logs.String(); !strings.Contains(logs, "panicked: nil map") {
		t.Errorf("logs = %s; want the panic", logs)
	}
	h.clock.Advance(rv.DefaultJobBackoff(1))
	h.runDue(1)
	if calls != 2 || h.stored("j") {
		t.Errorf("after a panic and a retry: %d calls, stored %v; want 2 calls and the job done", calls, h.stored("j"))
	}
}

func TestSchedulerUnknownKindNotLost(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{})
	h.schedule("j", "newer.kind", 0)
	h.runDue(1)
	if logs := h.logs.String(); !strings.Contains(logs, "no handler for the job's kind") || !strings.Contains(logs, "newer.kind") {
		t.Errorf("logs = %s; want the missing handler", logs)
	}
	h.runDue(0) // released for later, not lost
	var got []rv.Job
	h.s.Handle("newer.kind", func(_ context.Context, job rv.Job) error {
		got = append(got, job)
		return nil
	})
	h.clock.Advance(rv.DefaultJobBackoff(1))
	h.runDue(1)
	if len(got) != 1 || got[0].Attempt != 2 {
		t.Errorf("handler calls = %+v, want one, attempt 2", got)
	}
}

// TestSchedulerExtendsLease runs a handler through more than two leases:
// the runner extends the lease whenever half of it is left, so another
// runner never gets the job.
func TestSchedulerExtendsLease(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{Lease: 30 * time.Second, PollInterval: 5 * time.Millisecond})
	started, release := make(chan struct{}), make(chan struct{})
	h.s.Handle("slow", func(context.Context, rv.Job) error {
		close(started)
		<-release
		return nil
	})
	h.schedule("j", "slow", 0)

	result := make(chan error, 1)
	go func() {
		n, err := h.s.RunDue(context.Background())
		if err == nil && n != 1 {
			err = fmt.Errorf("RunDue ran %d jobs, want 1", n)
		}
		result <- err
	}()
	receive(t, started, "the handler's start")
	for step := 1; step <= 3; step++ {
		h.clock.Advance(16 * time.Second) // less than half the lease left
		until := receive(t, h.store.extends, "an extension of the lease")
		if want := h.clock.Now().Add(30 * time.Second); !until.Equal(want) {
			t.Errorf("extended until %v, want now + lease %v", until, want)
		}
		// Past the previous lease end: the job is still held.
		cs, err := h.store.JobStore.Claim(context.Background(), h.clock.Now(), time.Second, 10)
		if err != nil || len(cs) != 0 {
			t.Fatalf("step %d: another claim at +%v = %v, %v; want none", step, h.clock.Now().Sub(schedBase), cs, err)
		}
	}
	close(release)
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	if h.stored("j") {
		t.Error("the job is still stored after the slow handler returned")
	}
}

// TestSchedulerLostClaimCancelsHandler reschedules a job while its handler
// runs: the next extension finds the claim void and cancels the handler,
// and the new version of the job is left alone.
func TestSchedulerLostClaimCancelsHandler(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{PollInterval: 5 * time.Millisecond})
	started := make(chan struct{})
	h.s.Handle("k", func(ctx context.Context, _ rv.Job) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	h.schedule("j", "k", 0)
	result := make(chan error, 1)
	go func() {
		_, err := h.s.RunDue(context.Background())
		result <- err
	}()
	receive(t, started, "the handler's start")
	h.schedule("j", "k", time.Hour) // voids the running claim
	h.clock.Advance(16 * time.Second)
	if err := receive(t, result, "the handler's cancellation"); err != nil {
		t.Fatalf("RunDue = %v, want nil (a lost claim is not an error)", err)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "claim was lost") {
		t.Errorf("logs = %s; want the lost claim", logs)
	}
	cs, err := h.store.JobStore.Claim(context.Background(), schedBase.Add(time.Hour), time.Second, 10)
	if err != nil || len(cs) != 1 || cs[0].Job.Attempt != 1 {
		t.Fatalf("the rescheduled job: %+v, %v; want it, attempt 1", cs, err)
	}
}

// TestSchedulerTwoRunnersFireEachJobOnce runs two Schedulers on one store
// while time moves on: every job fires exactly once.
func TestSchedulerTwoRunnersFireEachJobOnce(t *testing.T) {
	const jobs = 40
	a := newHarness(t, rv.SchedulerConfig{PollInterval: 5 * time.Millisecond, Batch: 3})
	b := a.share(rv.SchedulerConfig{PollInterval: 5 * time.Millisecond, Batch: 3})
	var (
		mu    sync.Mutex
		calls = map[string]int{}
		fired = make(chan string, jobs*2)
	)
	handler := func(_ context.Context, job rv.Job) error {
		mu.Lock()
		calls[job.Key]++
		mu.Unlock()
		fired <- job.Key
		return nil
	}
	a.s.Handle("k", handler)
	b.s.Handle("k", handler)
	for i := range jobs {
		h := a
		if i%2 == 1 {
			h = b
		}
		h.schedule(fmt.Sprintf("job-%02d", i), "k", time.Duration(i/2)*100*time.Millisecond)
	}
	stopA, stopB := a.run(), b.run()
	for i := 0; i < jobs; i += 2 {
		a.clock.Advance(100 * time.Millisecond)
		receive(t, fired, "a job's run")
		receive(t, fired, "a job's run")
	}
	stopA()
	stopB()
	if len(calls) != jobs {
		t.Fatalf("%d jobs ran, want %d", len(calls), jobs)
	}
	for key, n := range calls {
		if n != 1 {
			t.Errorf("%s ran %d times, want once", key, n)
		}
		if a.stored(key) {
			t.Errorf("%s is still stored", key)
		}
	}
}

// TestSchedulerWakesForLocalSchedule: a job scheduled through the
// Scheduler while Run waits out a long poll interval runs at once.
func TestSchedulerWakesForLocalSchedule(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{PollInterval: time.Hour})
	fired := make(chan rv.Job, 1)
	h.s.Handle("k", func(_ context.Context, job rv.Job) error { fired <- job; return nil })
	h.run()
	receive(t, h.store.claims, "the first claim") // Run now waits for an hour
	h.schedule("now", "k", 0)
	if job := receive(t, fired, "the run of a job scheduled while Run waited"); job.Key != "now" {
		t.Errorf("ran %s", job.Key)
	}
}

// TestSchedulerRunStopReleasesJobs: stopping Run cancels the running
// handlers and releases their jobs to be claimed again at once.
func TestSchedulerRunStopReleasesJobs(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{PollInterval: 5 * time.Millisecond})
	started := make(chan struct{})
	h.s.Handle("k", func(ctx context.Context, _ rv.Job) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	h.schedule("j", "k", 0)
	stop := h.run()
	receive(t, started, "the handler's start")
	stop()
	cs, err := h.store.JobStore.Claim(context.Background(), h.clock.Now(), time.Second, 10)
	if err != nil || len(cs) != 1 || cs[0].Job.Attempt != 2 {
		t.Fatalf("claim after the runner stopped = %+v, %v; want the job at once, attempt 2", cs, err)
	}
}

// TestSchedulerRunBatchBoundsHandlers: with Batch 2, Run holds at most two
// jobs while their handlers run; the others stay claimable.
func TestSchedulerRunBatchBoundsHandlers(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{PollInterval: 5 * time.Millisecond, Batch: 2})
	started := make(chan string, 5)
	release := make(chan struct{})
	h.s.Handle("k", func(_ context.Context, job rv.Job) error {
		started <- job.Key
		<-release
		return nil
	})
	for i := range 5 {
		h.schedule(fmt.Sprintf("j%d", i), "k", 0)
	}
	stop := h.run()
	receive(t, started, "a first handler")
	receive(t, started, "a second handler")
	ctx := context.Background()
	cs, err := h.store.JobStore.Claim(ctx, h.clock.Now(), time.Second, 10)
	if err != nil || len(cs) != 3 {
		t.Fatalf("claim beside a full runner = %d jobs, %v; want the 3 it left", len(cs), err)
	}
	for _, c := range cs {
		if err := h.store.JobStore.Retry(ctx, c, h.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	for range 3 {
		receive(t, started, "the run of a job left for later")
	}
	stop()
	for i := range 5 {
		if h.stored(fmt.Sprintf("j%d", i)) {
			t.Errorf("j%d is still stored", i)
		}
	}
}

// TestSchedulerRunSurvivesStoreErrors: Run logs failed claims and keeps
// polling.
func TestSchedulerRunSurvivesStoreErrors(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{PollInterval: 5 * time.Millisecond})
	h.store.failures.Store(3)
	fired := make(chan struct{}, 1)
	h.s.Handle("k", func(context.Context, rv.Job) error { fired <- struct{}{}; return nil })
	h.schedule("j", "k", 0)
	h.run()
	receive(t, fired, "the run after the store came back")
	if logs := h.logs.String(); !strings.Contains(logs, "cannot claim jobs") || !strings.Contains(logs, "STORE_UNAVAILABLE") {
		t.Errorf("logs = %s; want the failed claim", logs)
	}
}

func TestSchedulerRunDueReportsStoreErrors(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{})
	h.store.failDone = true
	h.s.Handle("k", func(context.Context, rv.Job) error { return nil })
	h.schedule("j", "k", 0)
	if n, err := h.s.RunDue(context.Background()); n != 1 || !errors.Is(err, rv.ErrStoreUnavailable) {
		t.Errorf("RunDue with Complete failing = %d, %v; want 1, STORE_UNAVAILABLE", n, err)
	}
	h.store.failures.Store(1)
	if n, err := h.s.RunDue(context.Background()); n != 0 || !errors.Is(err, rv.ErrStoreUnavailable) {
		t.Errorf("RunDue with Claim failing = %d, %v; want 0, STORE_UNAVAILABLE", n, err)
	}
}

func TestSchedulerRunTwiceRefused(t *testing.T) {
	h := newHarness(t, rv.SchedulerConfig{})
	h.run()
	receive(t, h.store.claims, "the first claim")
	if err := h.s.Run(context.Background()); err == nil {
		t.Error("a second concurrent Run was accepted")
	}
}

func TestSchedulerValidation(t *testing.T) {
	if _, err := rv.NewScheduler(rv.SchedulerConfig{}); err == nil {
		t.Error("NewScheduler without a store succeeded")
	}
	for _, cfg := range []rv.SchedulerConfig{
		{PollInterval: -1}, {Lease: -1}, {Batch: -1}, {Lease: time.Millisecond},
	} {
		cfg.Store = memory.NewJobStore()
		if _, err := rv.NewScheduler(cfg); err == nil {
			t.Errorf("NewScheduler(%+v) succeeded", cfg)
		}
	}
	h := newHarness(t, rv.SchedulerConfig{})
	ctx := context.Background()
	if err := h.s.Schedule(ctx, rv.Job{Key: "k", Kind: "k"}); !errors.Is(err, rv.ErrInvalidJob) || rv.KindOf(err) != rv.KindInvalid {
		t.Errorf("Schedule without a due time = %v, want INVALID_JOB (invalid)", err)
	}
	if _, err := h.s.Cancel(ctx, ""); !errors.Is(err, rv.ErrInvalidJob) {
		t.Errorf("Cancel(\"\") = %v, want INVALID_JOB", err)
	}
	if rv.KindOf(rv.ErrJobClaimLost) != rv.KindConflict {
		t.Error("JOB_CLAIM_LOST is not a conflict")
	}
	h.s.Handle("k", func(context.Context, rv.Job) error { return nil })
	for name, register := range map[string]func(){
		"a duplicate kind": func() { h.s.Handle("k", func(context.Context, rv.Job) error { return nil }) },
		"an empty kind":    func() { h.s.Handle("", func(context.Context, rv.Job) error { return nil }) },
		"a nil handler":    func() { h.s.Handle("other", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle with %s did not panic", name)
				}
			}()
			register()
		}()
	}
}

func TestDefaultJobBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second,
		6: 32 * time.Second, 7: time.Minute, 1000: time.Minute} {
		if got := rv.DefaultJobBackoff(attempt); got != want {
			t.Errorf("DefaultJobBackoff(%d) = %v, want %v", attempt, got, want)
		}
	}
}

// A feature schedules a timer by name; a runner on every instance runs it
// once it is due. Tests drive the runner with RunDue and a fake clock.
func ExampleScheduler() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 0, 0, time.UTC))
	s, err := rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore(), Clock: clock})
	if err != nil {
		panic(err)
	}
	s.Handle("session.end", func(_ context.Context, job rv.Job) error {
		// Idempotent: end the session if it is still running.
		fmt.Printf("ending session %s (attempt %d)\n", job.Payload, job.Attempt)
		return nil
	})
	_ = s.Schedule(ctx, rv.Job{Key: "session:42:end", Kind: "session.end", Due: clock.Now().Add(45 * time.Second), Payload: []byte("42")})

	n, _ := s.RunDue(ctx)
	fmt.Println("due at once:", n)
	clock.Advance(45 * time.Second)
	n, _ = s.RunDue(ctx)
	fmt.Println("due after 45 s:", n)
	// Output:
	// due at once: 0
	// ending session 42 (attempt 1)
	// due after 45 s: 1
}

// OnClaim sees every claim with its attempt and its lag after Due.
func TestSchedulerOnClaim(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	h := newHarness(t, rv.SchedulerConfig{
		Backoff: func(int) time.Duration { return 10 * time.Second },
		OnClaim: func(kind string, attempt int, lag time.Duration) {
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s#%d+%v", kind, attempt, lag))
			mu.Unlock()
		},
	})
	h.s.Handle("k", func(_ context.Context, job rv.Job) error {
		if job.Attempt == 1 {
			return errors.New("once")
		}
		return nil
	})
	h.schedule("j", "k", time.Second)
	h.clock.Advance(3 * time.Second)
	h.runDue(1) // 2 s late; fails
	h.clock.Advance(10 * time.Second)
	h.runDue(1) // claimed again at its new due time
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(seen, ","); got != "k#1+2s,k#2+0s" {
		t.Errorf("OnClaim saw %s", got)
	}
}
