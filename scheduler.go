package rendezvous

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Errors of the durable scheduler.
var (
	// ErrInvalidJob: a job with an empty, too long or malformed key or
	// kind, no due time or a payload over MaxJobPayload; also a Claim with
	// a non-positive lease or limit.
	ErrInvalidJob = E(KindInvalid, "INVALID_JOB", "the job is invalid")
	// ErrJobClaimLost: Complete, Retry or Extend with a claim that no
	// longer holds its job, because the job was rescheduled, cancelled,
	// completed, or claimed again after the claim's lease expired.
	ErrJobClaimLost = E(KindConflict, "JOB_CLAIM_LOST", "the job is no longer held by this claim")
)

// Limits of a Job, checked by Job.Validate.
const (
	MaxJobKeyLen  = 256      // bytes of Job.Key
	MaxJobKindLen = 64       // bytes of Job.Kind
	MaxJobPayload = 64 << 10 // bytes of Job.Payload
)

// Job is one durable timer: at Due, the handler registered for Kind runs
// with the job. Key identifies the job: scheduling a key again replaces
// the job, so a feature names its timers after what they time
// ("session:<id>:end") and reschedules or cancels them by that name.
type Job struct {
	// Key identifies the job; 1 to MaxJobKeyLen bytes of UTF-8 without
	// control characters.
	Key string
	// Kind selects the handler; 1 to MaxJobKindLen bytes, same rules.
	Kind string
	// Due is when the job runs. Stores keep it to the millisecond (Redis,
	// memory) or the microsecond (Postgres).
	Due time.Time
	// Payload is handed to the handler unchanged; at most MaxJobPayload
	// bytes. An empty payload may come back as nil.
	Payload []byte
	// Attempt is set by the store: 1 on the first claim of the job, one
	// more on each claim after. Scheduling a key resets it; Schedule
	// ignores the value passed.
	Attempt int
}

// Validate returns ErrInvalidJob unless j has a valid Key and Kind, a
// non-zero Due and a payload within MaxJobPayload.
func (j Job) Validate() error {
	if err := ValidateJobKey(j.Key); err != nil {
		return err
	}
	if !validJobName(j.Kind, MaxJobKindLen) {
		return ErrInvalidJob.WithMessage("a job kind is 1 to %d bytes of UTF-8 without control characters", MaxJobKindLen)
	}
	if j.Due.IsZero() {
		return ErrInvalidJob.WithMessage("job %q has no due time", j.Key)
	}
	if len(j.Payload) > MaxJobPayload {
		return ErrInvalidJob.WithMessage("the payload of job %q is over %d bytes", j.Key, MaxJobPayload)
	}
	return nil
}

// ValidateJobKey returns ErrInvalidJob unless key is a valid Job.Key.
func ValidateJobKey(key string) error {
	if !validJobName(key, MaxJobKeyLen) {
		return ErrInvalidJob.WithMessage("a job key is 1 to %d bytes of UTF-8 without control characters", MaxJobKeyLen)
	}
	return nil
}

func validJobName(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Claim is a job handed to one runner until LeaseUntil. Token is the
// fencing token of this claim, unique per claim: Complete, Retry and
// Extend act only while the store still holds the job under this token,
// so a runner whose lease expired (and whose job another runner claimed),
// or whose job was rescheduled or cancelled meanwhile, cannot delete or
// move the job's current version.
type Claim struct {
	Job        Job
	Token      string
	LeaseUntil time.Time
}

// JobStore keeps durable jobs, shared by every runner that uses the same
// backing store: store/memory (one process), store/redis and
// store/postgres implement it, and store/storetest checks them. Every
// method is atomic. Times are passed in rather than read from a clock, so
// the caller's Clock rules expiry.
type JobStore interface {
	// Schedule inserts job, or replaces the job with the same Key: its
	// kind, due time and payload become job's, its Attempt count restarts
	// and any claim on it is void. It returns ErrInvalidJob when
	// job.Validate fails.
	Schedule(ctx context.Context, job Job) error
	// Cancel deletes the job with key, claimed or not, and reports whether
	// there was one.
	Cancel(ctx context.Context, key string) (bool, error)
	// Claim hands out up to limit jobs that are due (Due <= now) and
	// either unclaimed or whose lease ended (LeaseUntil <= now), earliest
	// due first. Each is claimed until now+lease under a new token, with
	// its Attempt incremented.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Claim, error)
	// Complete deletes the claim's job if the claim still holds it, else
	// returns ErrJobClaimLost and changes nothing.
	Complete(ctx context.Context, c Claim) error
	// Retry releases the claim's job to be claimed again from due, if the
	// claim still holds it, else returns ErrJobClaimLost.
	Retry(ctx context.Context, c Claim, due time.Time) error
	// Extend moves the claim's lease to until, if the claim still holds
	// its job (even after its lease ended, as long as nobody claimed the
	// job since), else returns ErrJobClaimLost.
	Extend(ctx context.Context, c Claim, until time.Time) error
}

// JobScheduler schedules and cancels durable jobs: what a feature needs of
// a Scheduler, and what the features' Configs take (rooms, matchmaking,
// session and optin name it Scheduler). *Scheduler implements it.
type JobScheduler interface {
	Schedule(ctx context.Context, job Job) error
	Cancel(ctx context.Context, key string) (bool, error)
}

var _ JobScheduler = (*Scheduler)(nil)

// JobHandler runs a due job. A nil error completes the job; an error, or
// a panic, schedules another attempt after the scheduler's Backoff. ctx is
// cancelled when the runner stops or loses the job's claim.
//
// Delivery is at least once: a runner that crashes, or that cannot reach
// the store to complete a job, leaves the job to be claimed again once its
// lease expires, and a handler may run again for a job whose effects it
// already applied. Handlers are therefore idempotent state transitions
// (end the session if it is still running; pass the turn if the window is
// still open), keyed by the job's Key or payload.
type JobHandler func(ctx context.Context, job Job) error

// SchedulerConfig configures a Scheduler. Zero fields take the documented
// defaults.
type SchedulerConfig struct {
	// Store keeps the jobs. Required.
	Store JobStore
	// Clock tells the time of due dates and leases. Default SystemClock.
	Clock Clock
	// Logger receives handler failures, jobs without a handler and store
	// errors. Default: discard.
	Logger *slog.Logger
	// PollInterval is the time between two claims of due jobs while none
	// is known to be due sooner. Default 100 ms.
	PollInterval time.Duration
	// Lease is how long a claim holds its job before another runner may
	// claim it. A running handler's lease is extended whenever less than
	// half of it is left. Default 30 s.
	Lease time.Duration
	// Batch is the most jobs one claim takes, and the most handlers one
	// Run executes at once. Default 100.
	Batch int
	// Backoff is the delay before the next attempt of a job whose attempt
	// number attempt (1 for the first) failed. Default DefaultJobBackoff.
	Backoff func(attempt int) time.Duration
	// OnClaim, when set, is told of every job this Scheduler claimed,
	// before its handler runs: its kind, its Attempt (above 1 for a job
	// claimed again: retried, or taken over after a lost lease) and its
	// lag, the time from its Due to now. It must be fast (a metrics
	// histogram). Default none.
	OnClaim func(kind string, attempt int, lag time.Duration)
}

// DefaultJobBackoff is the default SchedulerConfig.Backoff: 1 s after the
// first failed attempt, doubling with each attempt up to one minute.
func DefaultJobBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 {
		return time.Minute
	}
	return min(time.Second<<(attempt-1), time.Minute)
}

// storeOpTimeout bounds the Complete or Retry of a finished job, which
// runs even when the runner's context is done.
const storeOpTimeout = 10 * time.Second

// errNoHandler is the failure of a job whose kind has no handler.
var errNoHandler = errors.New("rendezvous: no handler for the job's kind")

// Scheduler runs the durable jobs of a JobStore: it claims due jobs, calls
// the handler registered for each job's kind, and completes the job, or
// retries it with a backoff when the handler fails or panics. Every
// instance of a deployment can run a Scheduler on the same store: the
// store's claims hand each due job to one runner at a time.
//
// A due job fires within PollInterval of its due time (100 ms by default)
// while a runner is idle, and at once when it is scheduled through this
// Scheduler while Run is waiting. A job whose kind has no handler here is
// logged and retried after the backoff, so that a runner of an older
// version does not lose the jobs of a newer one. While a handler runs, its
// lease is extended, so that a handler slower than the lease keeps its job;
// if the claim is lost anyway (the job was rescheduled or cancelled), the
// handler's context is cancelled.
//
// Leases and due times are compared with the times each runner's Clock
// passes to the store, so the clocks of the instances must agree to well
// within the lease (NTP does).
//
// Create one with NewScheduler and register handlers with Handle before
// Run; it is safe for concurrent use.
type Scheduler struct {
	cfg      SchedulerConfig
	log      *slog.Logger
	check    time.Duration // how often a running job's lease is checked
	mu       sync.RWMutex
	handlers map[string]JobHandler

	running atomic.Bool
	wake    chan struct{}
	wakeMu  sync.Mutex
	wakeAt  time.Time // earliest due of a job scheduled here since the last claim
}

// NewScheduler returns a Scheduler, or an error when cfg is invalid.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Store == nil {
		return nil, errors.New("rendezvous: SchedulerConfig.Store is required")
	}
	if cfg.PollInterval < 0 || cfg.Lease < 0 || cfg.Batch < 0 {
		return nil, errors.New("rendezvous: SchedulerConfig.PollInterval, Lease and Batch must not be negative")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Lease == 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Lease < 2*time.Millisecond {
		return nil, errors.New("rendezvous: SchedulerConfig.Lease must be at least 2ms")
	}
	if cfg.Batch == 0 {
		cfg.Batch = 100
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultJobBackoff
	}
	return &Scheduler{
		cfg:      cfg,
		log:      cfg.Logger,
		check:    max(min(cfg.PollInterval, cfg.Lease/10), time.Millisecond),
		handlers: make(map[string]JobHandler),
		wake:     make(chan struct{}, 1),
	}, nil
}

// Handle registers h for the jobs of kind. It panics if kind is invalid,
// h is nil, or kind already has a handler: these are programming errors.
func (s *Scheduler) Handle(kind string, h JobHandler) {
	if !validJobName(kind, MaxJobKindLen) {
		panic(fmt.Sprintf("rendezvous: invalid job kind %q", kind))
	}
	if h == nil {
		panic("rendezvous: nil JobHandler for kind " + kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.handlers[kind]; ok {
		panic("rendezvous: a JobHandler is already registered for kind " + kind)
	}
	s.handlers[kind] = h
}

func (s *Scheduler) handler(kind string) JobHandler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.handlers[kind]
}

// Schedule stores job (see JobStore.Schedule: a job with the same key is
// replaced). When Run is waiting and job is due before its next claim,
// Run wakes up in time for it.
func (s *Scheduler) Schedule(ctx context.Context, job Job) error {
	if err := job.Validate(); err != nil {
		return err
	}
	if err := s.cfg.Store.Schedule(ctx, job); err != nil {
		return err
	}
	s.wakeMu.Lock()
	if s.wakeAt.IsZero() || job.Due.Before(s.wakeAt) {
		s.wakeAt = job.Due
	}
	s.wakeMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// Cancel deletes the job with key and reports whether there was one. A
// handler already running for it is not stopped, but its outcome is
// discarded (its claim is void).
func (s *Scheduler) Cancel(ctx context.Context, key string) (bool, error) {
	if err := ValidateJobKey(key); err != nil {
		return false, err
	}
	return s.cfg.Store.Cancel(ctx, key)
}

// Run claims and runs due jobs until ctx is done, then waits for the
// handlers it started (their context is cancelled; a job whose handler
// fails because of it is released to be claimed again at once) and
// returns nil. Store errors are logged and the claim is tried again at the
// next poll, so Run keeps going through an outage. At most Batch handlers
// run at once. Run returns an error at once if this Scheduler is already
// running.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("rendezvous: Scheduler.Run is already running")
	}
	defer s.running.Store(false)
	var wg sync.WaitGroup
	defer wg.Wait()

	batch := s.cfg.Batch
	done := make(chan struct{}, batch) // one value per finished job
	inflight := 0
	failures := 0
	next := time.Now() // real time of the next claim
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		next = s.wakeBefore(next)
		if inflight < batch && !time.Now().Before(next) {
			free := batch - inflight
			now := s.cfg.Clock.Now()
			s.clearWake(now)
			claims, err := s.cfg.Store.Claim(ctx, now, s.cfg.Lease, free)
			next = time.Now().Add(s.cfg.PollInterval)
			switch {
			case err != nil && ctx.Err() != nil:
				return nil
			case err != nil:
				failures++
				if failures == 1 || failures%100 == 0 {
					s.log.LogAttrs(ctx, slog.LevelError, "rendezvous: scheduler cannot claim jobs",
						slog.Int("failures", failures), slog.Any("err", err))
				}
			default:
				if failures > 0 {
					s.log.LogAttrs(ctx, slog.LevelInfo, "rendezvous: scheduler claims jobs again", slog.Int("failures", failures))
					failures = 0
				}
				if len(claims) == free {
					next = time.Now() // more may be due: claim again as soon as a slot is free
				}
			}
			for _, c := range claims {
				inflight++
				wg.Go(func() {
					_ = s.execute(ctx, c)
					done <- struct{}{}
				})
			}
			continue
		}
		var tick <-chan time.Time
		if inflight < batch {
			timer.Reset(max(time.Until(next), 0))
			tick = timer.C
		}
		select {
		case <-ctx.Done():
		case <-tick:
		case <-s.wake:
		case <-done:
			inflight--
		}
		timer.Stop()
	}
}

// wakeBefore returns next, or the real time at which the earliest job
// scheduled here since the last claim is due if that is sooner.
func (s *Scheduler) wakeBefore(next time.Time) time.Time {
	s.wakeMu.Lock()
	at := s.wakeAt
	s.wakeMu.Unlock()
	if at.IsZero() {
		return next
	}
	if t := time.Now().Add(at.Sub(s.cfg.Clock.Now())); t.Before(next) {
		return t
	}
	return next
}

// clearWake forgets the earliest local due time once a claim at now has
// looked for it.
func (s *Scheduler) clearWake(now time.Time) {
	s.wakeMu.Lock()
	if !s.wakeAt.IsZero() && !s.wakeAt.After(now) {
		s.wakeAt = time.Time{}
	}
	s.wakeMu.Unlock()
}

// RunDue claims the jobs due now, at most Batch, runs them concurrently
// and returns once every one is completed or retried. n is the number of
// jobs claimed; err is the claim's error, or the errors of completing or
// retrying them (a lost claim is not an error: another runner or a
// rescheduling owns the job). Handler failures are not returned: they are
// retried and logged. RunDue is for tests and for hosts that drive the
// scheduler themselves (a cron tick, a serverless invocation); it may run
// beside Run.
func (s *Scheduler) RunDue(ctx context.Context) (n int, err error) {
	claims, err := s.cfg.Store.Claim(ctx, s.cfg.Clock.Now(), s.cfg.Lease, s.cfg.Batch)
	if err != nil {
		return 0, err
	}
	errs := make([]error, len(claims))
	var wg sync.WaitGroup
	for i, c := range claims {
		wg.Go(func() { errs[i] = s.execute(ctx, c) })
	}
	wg.Wait()
	return len(claims), errors.Join(errs...)
}

// execute runs the handler of claim c, keeping its lease, then completes
// or retries the job. It returns the error of that last store call, nil
// when the claim was lost.
func (s *Scheduler) execute(ctx context.Context, c Claim) error {
	attrs := []slog.Attr{slog.String("job", c.Job.Key), slog.String("kind", c.Job.Kind), slog.Int("attempt", c.Job.Attempt)}
	if f := s.cfg.OnClaim; f != nil {
		f(c.Job.Kind, c.Job.Attempt, s.cfg.Clock.Now().Sub(c.Job.Due))
	}
	var err error
	if h := s.handler(c.Job.Kind); h == nil {
		err = errNoHandler
	} else {
		hctx, cancel := context.WithCancel(ctx)
		stop := s.keepLease(hctx, cancel, c, attrs)
		err = callJobHandler(hctx, h, c.Job)
		cancel()
		stop()
	}

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeOpTimeout)
	defer cancel()
	var storeErr error
	switch {
	case err == nil:
		storeErr = s.cfg.Store.Complete(sctx, c)
	case ctx.Err() != nil && !errors.Is(err, errNoHandler):
		// The runner is stopping: another one may take the job right away.
		storeErr = s.cfg.Store.Retry(sctx, c, s.cfg.Clock.Now())
	default:
		delay := max(s.cfg.Backoff(c.Job.Attempt), 0)
		due := s.cfg.Clock.Now().Add(delay)
		level, msg := slog.LevelError, "rendezvous: job failed; retrying"
		if errors.Is(err, errNoHandler) {
			level, msg = slog.LevelWarn, "rendezvous: no handler for the job's kind; retrying"
		}
		s.log.LogAttrs(ctx, level, msg, append(attrs, slog.Time("retryAt", due), slog.Any("err", err))...)
		storeErr = s.cfg.Store.Retry(sctx, c, due)
	}
	switch {
	case storeErr == nil:
		return nil
	case errors.Is(storeErr, ErrJobClaimLost):
		s.log.LogAttrs(ctx, slog.LevelWarn, "rendezvous: job's claim was lost before it finished (rescheduled, cancelled or claimed again)", attrs...)
		return nil
	default:
		s.log.LogAttrs(ctx, slog.LevelError, "rendezvous: cannot complete or retry job; it runs again when its lease expires",
			append(attrs, slog.Any("err", storeErr))...)
		return storeErr
	}
}

// keepLease extends c's lease while its handler runs, each time less than
// half of the lease is left. If the claim is lost, it cancels the
// handler's context. stop ends it and waits for it.
func (s *Scheduler) keepLease(ctx context.Context, cancel context.CancelFunc, c Claim, attrs []slog.Attr) (stop func()) {
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		ticker := time.NewTicker(s.check)
		defer ticker.Stop()
		until := c.LeaseUntil
		for {
			select {
			case <-quit:
				return
			case <-ticker.C:
			}
			now := s.cfg.Clock.Now()
			if until.Sub(now) > s.cfg.Lease/2 {
				continue
			}
			next := now.Add(s.cfg.Lease)
			err := s.cfg.Store.Extend(ctx, c, next)
			switch {
			case err == nil:
				until = next
			case errors.Is(err, ErrJobClaimLost):
				s.log.LogAttrs(ctx, slog.LevelWarn, "rendezvous: running job's claim was lost; cancelling its handler", attrs...)
				cancel()
				return
			case ctx.Err() != nil:
				return
			default:
				s.log.LogAttrs(ctx, slog.LevelError, "rendezvous: cannot extend a running job's lease", append(attrs, slog.Any("err", err))...)
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}

// callJobHandler calls h, turning a panic into an error.
func callJobHandler(ctx context.Context, h JobHandler, job Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rendezvous: job handler panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return h(ctx, job)
}
