package matchmaking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

// RefundJobKind is the kind of the durable job that retries the refund
// of a debit that Leave, the sweep or the disconnect grace could not
// refund at once; its payload is the debit key. A host registers
// (*Service).HandleRefund for it on the Scheduler it passes in Config.
const RefundJobKind = "matchmaking.refund"

// RefundJobKey is the key of the refund job of debitKey.
func RefundJobKey(debitKey string) string { return "queue:refund:" + debitKey }

// Defaults of Config.
const (
	DefaultTickInterval    = 500 * time.Millisecond
	DefaultDisconnectGrace = 10 * time.Second
	DefaultPresenceTTL     = 30 * time.Second
	DefaultJoinTimeout     = 60 * time.Second
	DefaultPairLease       = 10 * time.Second
	DefaultPairsPerTick    = 1000
)

// Bounds of Config.TickInterval and Config.PairsPerTick.
const (
	MinTickInterval = 50 * time.Millisecond
	MaxTickInterval = 60 * time.Second
	MaxPairsPerTick = 10000
)

// refundAttempts is how many times a refund is tried within one call
// before it is left to a RefundJobKind job; the n-th retry waits
// n*refundPause.
const (
	refundAttempts = 3
	refundPause    = 20 * time.Millisecond
)

// staleBatch bounds the stale joins one sweep call lists.
const staleBatch = 100

// Service is the queue: Join, Leave and Status for the REST routes, the
// socket hooks of the /queue namespace, and Tick/Run, the pairing worker.
// It is safe for concurrent use, and any number of Services on any number
// of processes may share a Store and run Run at once.
type Service struct {
	cfg Config
}

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("matchmaking: Config.Store is required")
	case cfg.Debit == nil:
		return nil, errors.New("matchmaking: Config.Debit is required")
	case cfg.Refund == nil:
		return nil, errors.New("matchmaking: Config.Refund is required")
	case cfg.OnPair == nil:
		return nil, errors.New("matchmaking: Config.OnPair is required")
	}
	if cfg.Busy == nil {
		cfg.Busy = func(context.Context, string) (string, bool, error) { return "", false, nil }
	}
	if cfg.Notifier == nil {
		cfg.Notifier = rv.DiscardNotifier
	}
	if cfg.Clock == nil {
		cfg.Clock = rv.SystemClock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.TickInterval, DefaultTickInterval)
	def(&cfg.DisconnectGrace, DefaultDisconnectGrace)
	def(&cfg.PresenceTTL, DefaultPresenceTTL)
	def(&cfg.JoinTimeout, DefaultJoinTimeout)
	def(&cfg.PairLease, DefaultPairLease)
	if cfg.PairsPerTick == 0 {
		cfg.PairsPerTick = DefaultPairsPerTick
	}
	switch {
	case cfg.TickInterval < MinTickInterval || cfg.TickInterval > MaxTickInterval:
		return nil, fmt.Errorf("matchmaking: TickInterval must be %v to %v", MinTickInterval, MaxTickInterval)
	case cfg.DisconnectGrace < 0:
		return nil, errors.New("matchmaking: DisconnectGrace must not be negative")
	case cfg.PresenceTTL < time.Second:
		return nil, errors.New("matchmaking: PresenceTTL must be at least one second")
	case cfg.JoinTimeout < time.Second:
		return nil, errors.New("matchmaking: JoinTimeout must be at least one second")
	case cfg.PairLease < time.Second:
		return nil, errors.New("matchmaking: PairLease must be at least one second")
	case cfg.PairsPerTick < 1 || cfg.PairsPerTick > MaxPairsPerTick:
		return nil, fmt.Errorf("matchmaking: PairsPerTick must be 1 to %d", MaxPairsPerTick)
	}
	return &Service{cfg: cfg}, nil
}

// Config returns the configuration in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// PresenceTTL returns the effective Config.PresenceTTL; the transport
// refreshes each /queue socket (SocketRefresh) every PresenceTTL/3.
func (s *Service) PresenceTTL() time.Duration { return s.cfg.PresenceTTL }

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// JoinRequest is the body of POST /queue/join.
type JoinRequest struct {
	Region      string          `json:"region"`
	Preferences json.RawMessage `json:"preferences,omitempty"`
}

// Join puts userID in the queue of region and preferences (see QueueKey)
// for one token. It is a saga across the wallet and the queue store:
// reserve the user's entry, debit under a fresh key, then activate the
// entry; a failed debit discards the reservation, and an activation that
// finds its reservation swept refunds. A user already waiting, or whose
// join is in progress (a double click), gets StatusAlreadyQueued and is
// not charged again; a user in a session, or in a pair being started,
// gets ErrAlreadyInSession. A debit error (INSUFFICIENT_TOKENS, 402) and
// a refusal of Config.Gate (USER_BANNED, 403) are returned unchanged.
func (s *Service) Join(ctx context.Context, userID, region string, preferences json.RawMessage) (JoinResult, error) {
	key, err := QueueKey(region, preferences)
	if err != nil {
		return JoinResult{}, err
	}
	if s.cfg.Gate != nil {
		if err := s.cfg.Gate(ctx, userID); err != nil {
			return JoinResult{}, err
		}
	}
	if _, busy, err := s.cfg.Busy(ctx, userID); err != nil {
		return JoinResult{}, err
	} else if busy {
		return JoinResult{}, ErrAlreadyInSession
	}
	debitKey := "queue:" + uuid.New()
	e, created, err := s.cfg.Store.Reserve(ctx, Entry{
		UserID:   userID,
		QueueKey: key,
		DebitKey: debitKey,
		State:    StateJoining,
		JoinedAt: s.now(),
	})
	if err != nil {
		return JoinResult{}, err
	}
	if !created {
		switch e.State {
		case StateWaiting:
			_, pos, _, err := s.cfg.Store.Get(ctx, userID)
			if err != nil {
				return JoinResult{}, err
			}
			return JoinResult{Status: StatusAlreadyQueued, QueueKey: e.QueueKey, Position: pos}, nil
		case StateJoining:
			return JoinResult{Status: StatusAlreadyQueued, QueueKey: e.QueueKey}, nil
		default:
			return JoinResult{}, ErrAlreadyInSession
		}
	}
	// The compensations run even when the caller gives up.
	bg := context.WithoutCancel(ctx)
	// Asked again now that the entry is reserved: a pair acked between
	// the first question and the reservation has made its users busy
	// before deleting their entries, so it shows here.
	if _, busy, err := s.cfg.Busy(ctx, userID); err != nil || busy {
		if _, derr := s.cfg.Store.Discard(bg, userID, debitKey); derr != nil {
			s.cfg.Logger.Warn("matchmaking: discard of a busy user's reservation", "user", userID, "err", derr)
		}
		if err != nil {
			return JoinResult{}, err
		}
		return JoinResult{}, ErrAlreadyInSession
	}
	if err := s.cfg.Debit(ctx, userID, debitKey); err != nil {
		if _, derr := s.cfg.Store.Discard(bg, userID, debitKey); derr != nil {
			// The sweep refunds and discards it after JoinTimeout.
			s.cfg.Logger.Warn("matchmaking: discard after a failed debit", "user", userID, "err", derr)
			return JoinResult{}, err
		}
		if rv.KindOf(err) != rv.KindPaymentRequired {
			// The debit may have landed though its reply was lost.
			_ = s.refundOrSchedule(bg, debitKey)
		}
		return JoinResult{}, err
	}
	e, pos, err := s.cfg.Store.Activate(ctx, userID, debitKey)
	switch {
	case err == nil:
		return JoinResult{Status: StatusQueued, QueueKey: e.QueueKey, Position: pos}, nil
	case errors.Is(err, ErrEntryGone):
		// The sweep discarded the reservation, and refunded it; refunds
		// are idempotent by key.
		_ = s.refundOrSchedule(bg, debitKey)
		return JoinResult{}, ErrEntryGone
	}
	// The activation may or may not have happened: only a reservation
	// still there is discarded and refunded; one that could not be
	// checked is left to the sweep.
	if discarded, derr := s.cfg.Store.Discard(bg, userID, debitKey); derr == nil && discarded {
		_ = s.refundOrSchedule(bg, debitKey)
	} else if derr != nil {
		s.cfg.Logger.Warn("matchmaking: discard after a failed activation", "user", userID, "err", derr)
	}
	return JoinResult{}, err
}

// Leave takes userID out of the queue and refunds their token:
// StatusLeft with Refunded. A user whose pair was popped, or who is in a
// session, gets StatusAlreadyMatched with the session id and keeps the
// session; anyone else StatusNotQueued. A Leave racing the pairing worker
// either refunds or pairs, never both and never neither. The refund is
// tried a few times; if it still fails, it is handed to a durable
// RefundJobKind job when Config.Scheduler is set (Refunded stays true: the
// token will come back), else the error is returned — the user is out of
// the queue either way.
func (s *Service) Leave(ctx context.Context, userID string) (LeaveResult, error) {
	e, removed, err := s.cfg.Store.Remove(ctx, userID)
	if err != nil {
		return LeaveResult{}, err
	}
	if removed {
		if err := s.refundOrSchedule(context.WithoutCancel(ctx), e.DebitKey); err != nil {
			return LeaveResult{}, err
		}
		return LeaveResult{Status: StatusLeft, Refunded: true}, nil
	}
	if e.State == StateMatched {
		return LeaveResult{Status: StatusAlreadyMatched, SessionID: e.SessionID}, nil
	}
	sid, busy, err := s.cfg.Busy(ctx, userID)
	if err != nil {
		return LeaveResult{}, err
	}
	if busy {
		return LeaveResult{Status: StatusAlreadyMatched, SessionID: sid}, nil
	}
	return LeaveResult{Status: StatusNotQueued}, nil
}

// Status tells where userID stands: StatusQueued with the queue key and
// position, StatusMatched with the session id (a pair being started, or a
// session Config.Busy reports), or StatusNotQueued. A join in progress
// is not queued yet.
func (s *Service) Status(ctx context.Context, userID string) (StatusResult, error) {
	e, pos, ok, err := s.cfg.Store.Get(ctx, userID)
	if err != nil {
		return StatusResult{}, err
	}
	if ok {
		switch e.State {
		case StateWaiting:
			return StatusResult{Status: StatusQueued, QueueKey: e.QueueKey, Position: &pos}, nil
		case StateMatched:
			return StatusResult{Status: StatusMatched, SessionID: e.SessionID}, nil
		}
	}
	sid, busy, err := s.cfg.Busy(ctx, userID)
	if err != nil {
		return StatusResult{}, err
	}
	if busy {
		return StatusResult{Status: StatusMatched, SessionID: sid}, nil
	}
	return StatusResult{Status: StatusNotQueued}, nil
}

// Tick runs one round of the pairing worker and returns the number of new
// pairs: it refunds and discards the joins stuck in StateJoining for
// JoinTimeout (a Join whose process died mid-debit), hands again to
// OnPair the pairs whose lease ran out, then pops new pairs, PairsPerTick
// per store call, while calls come back full. Each pair's members get
// EventMatch, then OnPair starts the session (up to 16 pairs at once, so
// OnPair must be safe for concurrent use); a pair whose OnPair fails
// stays pending and is handed to OnPair again, with the same SessionID,
// after PairLease. Tick is safe on every instance at once.
func (s *Service) Tick(ctx context.Context) (int, error) {
	now := s.now()
	if err := s.sweep(ctx, now); err != nil {
		return 0, err
	}
	for {
		stale, err := s.cfg.Store.ClaimStalePairs(ctx, now, s.cfg.PairLease, s.cfg.PairsPerTick)
		if err != nil {
			return 0, err
		}
		s.driveAll(ctx, stale)
		if len(stale) < s.cfg.PairsPerTick {
			break
		}
	}
	made := 0
	for {
		ids := make([]string, s.cfg.PairsPerTick)
		for i := range ids {
			ids[i] = uuid.New()
		}
		pairs, err := s.cfg.Store.PopPairs(ctx, ids, s.now(), s.cfg.PairLease)
		if err != nil {
			return made, err
		}
		made += len(pairs)
		s.driveAll(ctx, pairs)
		if len(pairs) < len(ids) || ctx.Err() != nil {
			return made, ctx.Err()
		}
	}
}

// sweep refunds and discards the joins reserved before now-JoinTimeout.
// The refund comes first, so that a sweep cut short leaves the entry for
// the next one rather than a debit without an entry.
func (s *Service) sweep(ctx context.Context, now time.Time) error {
	before := now.Add(-s.cfg.JoinTimeout)
	for {
		stale, err := s.cfg.Store.StaleJoins(ctx, before, staleBatch)
		if err != nil {
			return err
		}
		done := 0
		for _, e := range stale {
			if err := s.cfg.Refund(ctx, e.DebitKey); err != nil {
				s.cfg.Logger.Warn("matchmaking: refund of a stale join", "user", e.UserID, "debitKey", e.DebitKey, "err", err)
				continue
			}
			if _, err := s.cfg.Store.Discard(ctx, e.UserID, e.DebitKey); err != nil {
				return err
			}
			done++
		}
		if len(stale) < staleBatch || done == 0 {
			return nil
		}
	}
}

// driveConcurrency bounds the pairs one Tick drives at once.
const driveConcurrency = 16

// driveAll drives pairs, up to driveConcurrency at once, and returns when
// all are done.
func (s *Service) driveAll(ctx context.Context, pairs []Pair) {
	if len(pairs) == 1 {
		s.drive(ctx, pairs[0])
		return
	}
	sem := make(chan struct{}, driveConcurrency)
	var wg sync.WaitGroup
	for _, p := range pairs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.drive(ctx, p)
		}()
	}
	wg.Wait()
}

// drive announces pair p to its members, starts its session and acks it;
// a failure leaves it pending for another tick after its lease.
func (s *Service) drive(ctx context.Context, p Pair) {
	ev := MatchEvent{SessionID: p.SessionID, QueueKey: p.QueueKey, MatchedAt: p.MatchedAt}
	events := make([]rv.Event, 0, 2)
	for _, m := range p.Members {
		events = append(events, rv.NewEvent(Namespace, rv.UserTarget(m.UserID), EventMatch, ev))
	}
	if err := s.cfg.Notifier.Notify(ctx, events...); err != nil {
		s.cfg.Logger.Warn("matchmaking: match event lost", "session", p.SessionID, "err", err)
	}
	if err := s.cfg.OnPair(ctx, p); err != nil {
		s.cfg.Logger.Error("matchmaking: OnPair failed; the pair is retried after its lease", "session", p.SessionID, "err", err)
		return
	}
	if err := s.cfg.Store.AckPair(ctx, p.SessionID); err != nil {
		s.cfg.Logger.Error("matchmaking: ack of a started pair; OnPair will see it again", "session", p.SessionID, "err", err)
	}
}

// Run ticks every TickInterval until ctx is done, then returns nil. A
// failed tick is logged and the next one runs on time. Run is safe on
// every instance at once: the store hands each pair to one of them.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.TickInterval)
	defer t.Stop()
	for {
		made, err := s.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("matchmaking: tick failed", "err", err)
		}
		if err == nil && s.cfg.OnTick != nil {
			if waiting, werr := s.cfg.Store.Waiting(ctx); werr == nil {
				s.cfg.OnTick(made, waiting)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// refund gives back debitKey's token, trying a few times, and returns
// the last error when every try failed; that failure is logged.
func (s *Service) refund(ctx context.Context, debitKey string) error {
	var err error
	for i := range refundAttempts {
		if i > 0 {
			// A short pause lets a blip of the wallet's database pass.
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(i) * refundPause):
			}
		}
		if err = s.cfg.Refund(ctx, debitKey); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	s.cfg.Logger.Warn("matchmaking: refund failed", "debitKey", debitKey, "err", err)
	return err
}

// refundOrSchedule refunds debitKey, or when that fails, schedules a
// RefundJobKind job that retries it; it returns an error only when
// neither worked.
func (s *Service) refundOrSchedule(ctx context.Context, debitKey string) error {
	err := s.refund(ctx, debitKey)
	if err == nil {
		return nil
	}
	if s.cfg.Scheduler == nil {
		return err
	}
	job := rv.Job{Key: RefundJobKey(debitKey), Kind: RefundJobKind, Due: s.now(), Payload: []byte(debitKey)}
	if serr := s.cfg.Scheduler.Schedule(ctx, job); serr != nil {
		s.cfg.Logger.Error("matchmaking: refund lost", "debitKey", debitKey, "err", err, "scheduleErr", serr)
		return err
	}
	return nil
}

// HandleRefund is the handler of RefundJobKind jobs: it refunds the debit
// key in the payload. An error leaves the job to be retried.
func (s *Service) HandleRefund(ctx context.Context, job rv.Job) error {
	if len(job.Payload) == 0 {
		return nil
	}
	return s.cfg.Refund(ctx, string(job.Payload))
}
