package optin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

// Service runs the double opt-in: it opens a window when a call ends
// (OpenWindow, the session feature's OnEnded), takes the participants'
// choices (Choose), resolves the silent ones at the deadline
// (HandleAutoPass) and announces each outcome to both. It is safe for
// concurrent use, and any number of Services on any number of processes
// may share a Store.
type Service struct {
	cfg Config
}

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("optin: Config.Store is required")
	case cfg.Scheduler == nil:
		return nil, errors.New("optin: Config.Scheduler is required")
	case cfg.Session == nil:
		return nil, errors.New("optin: Config.Session is required")
	case cfg.Window < 0:
		return nil, errors.New("optin: Config.Window must not be negative")
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
	if cfg.Window == 0 {
		cfg.Window = 60 * time.Second
	}
	if cfg.Window < time.Second {
		return nil, errors.New("optin: Config.Window must be at least one second")
	}
	return &Service{cfg: cfg}, nil
}

// Config returns the configuration in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// OpenWindow opens the choice window of session sessionID, which ended at
// endedAt, for its two users: choices are taken until endedAt +
// Config.Window (to the millisecond, as job stores keep due times). It is
// idempotent: a window already open is kept, with its
// deadline, and its auto-pass job is scheduled again (at that deadline)
// unless it is resolved. This is what a host passes as the session
// feature's OnEnded.
func (s *Service) OpenWindow(ctx context.Context, sessionID string, users [2]string, endedAt time.Time) error {
	w, _, err := s.cfg.Store.Open(ctx, Window{SessionID: sessionID, Users: users, Deadline: endedAt.UTC().Add(s.cfg.Window).Truncate(time.Millisecond)})
	if err != nil {
		return err
	}
	if w.Resolved() {
		return nil
	}
	payload, _ := json.Marshal(sessionID)
	return s.cfg.Scheduler.Schedule(ctx, rv.Job{Key: AutoPassJobKey(sessionID), Kind: AutoPassJobKind, Due: w.Deadline, Payload: payload})
}

// Choose records userID's choice ("MATCH" or "PASS") for session
// sessionID and returns the state of the window: StatusPending with the
// deadline, or StatusResolved with the outcome (and the match id when
// mutual). The choice that resolves the window announces the outcome to
// both (EventMutual or EventNonMutual). The same choice again returns the
// current state; the other choice is ErrChoiceAlreadyMade.
//
// Errors: ErrInvalidChoice; the session feature's not-found error for an
// unknown or invalid session; ErrNotAParticipant; ErrSessionNotEnded while
// the call is on (or its window is about to open); ErrNoChoice for a
// session that ended without a call.
func (s *Service) Choose(ctx context.Context, userID, sessionID, choice string) (Result, error) {
	return s.choose(ctx, userID, sessionID, choice)
}

// ForcePass records PASS for userID in the choice window of sessionID, as
// moderation does for an offender: they cannot MATCH in it. It is
// idempotent, and does nothing when the session has no window (it ended
// without a call) or the user already chose MATCH before (the choice
// stands: a violation reported after a choice does not undo it).
func (s *Service) ForcePass(ctx context.Context, sessionID, userID string) error {
	_, err := s.choose(ctx, userID, sessionID, string(ChoicePass))
	switch {
	case err == nil, errors.Is(err, ErrNoChoice), errors.Is(err, ErrChoiceAlreadyMade):
		return nil
	}
	return err
}

func (s *Service) choose(ctx context.Context, userID, sessionID, choice string) (Result, error) {
	c := Choice(choice)
	if c != ChoiceMatch && c != ChoicePass {
		return Result{}, ErrInvalidChoice
	}
	var (
		w        Window
		resolved bool
		err      error
	)
	now := s.now()
	if uuid.Valid(sessionID) {
		w, resolved, err = s.cfg.Store.Choose(ctx, ChoiceRequest{SessionID: sessionID, UserID: userID, Choice: c, Now: now, MatchID: uuid.New()})
		if err == nil && !w.Resolved() && !now.Before(w.Deadline) {
			// A choice made again after the deadline, before the auto-pass
			// ran: resolve the window as the auto-pass would.
			w, resolved, err = s.cfg.Store.Expire(ctx, sessionID, now)
		}
	} else {
		err = ErrWindowNotFound
	}
	if errors.Is(err, ErrWindowNotFound) {
		return Result{}, s.noWindow(ctx, userID, sessionID)
	}
	if err != nil {
		return Result{}, err
	}
	if resolved {
		s.announce(ctx, w)
		if _, err := s.cfg.Scheduler.Cancel(ctx, AutoPassJobKey(sessionID)); err != nil {
			// The job finds the window resolved and does nothing.
			s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "optin: auto-pass job not cancelled", slog.String("session", sessionID), slog.Any("err", err))
		}
	}
	return result(w), nil
}

// noWindow tells why session sessionID has no window for userID.
func (s *Service) noWindow(ctx context.Context, userID, sessionID string) error {
	info, err := s.cfg.Session(ctx, sessionID)
	if err != nil {
		return err
	}
	switch {
	case info.Users[0] != userID && info.Users[1] != userID || userID == "":
		return ErrNotAParticipant
	case !info.Ended || info.ChoiceOffered:
		// A call that took place gets its window as it ends (OnEnded runs
		// before the end is announced), so a window missing for it is one
		// about to open: the end is still in progress.
		return ErrSessionNotEnded
	default:
		return ErrNoChoice
	}
}

func result(w Window) Result {
	if w.Resolved() {
		return Result{Status: StatusResolved, Outcome: w.Outcome, MatchID: w.MatchID}
	}
	deadline := w.Deadline
	return Result{Status: StatusPending, Deadline: &deadline}
}

// announce sends w's outcome to both users.
func (s *Service) announce(ctx context.Context, w Window) {
	evs := make([]rv.Event, 0, 2)
	for _, u := range w.Users {
		if w.Outcome == Mutual {
			evs = append(evs, rv.NewEvent(Namespace, rv.UserTarget(u), EventMutual, MutualEvent{SessionID: w.SessionID, MatchID: w.MatchID}))
		} else {
			evs = append(evs, rv.NewEvent(Namespace, rv.UserTarget(u), EventNonMutual, NonMutualEvent{SessionID: w.SessionID, Outcome: NonMutual}))
		}
	}
	// The outcome is committed; a lost event must not turn it into an
	// error for the caller, so it is logged instead.
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), evs...); err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "optin: outcome not published", slog.String("session", w.SessionID), slog.Any("err", err))
	}
}

// HandleAutoPass is the JobHandler of AutoPassJobKind: at the deadline it
// resolves the window's missing choices as PASS and announces the
// non-mutual outcome. A window already resolved is left alone, except that
// a job run again after a failed attempt (Attempt > 1) announces its
// outcome again, since a crash may have come between the resolution and
// its announcement. A job that fires before the deadline (clock skew)
// fails, to be retried.
func (s *Service) HandleAutoPass(ctx context.Context, job rv.Job) error {
	var id string
	if err := json.Unmarshal(job.Payload, &id); err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "optin: auto-pass job without a session id", slog.String("key", job.Key))
		return nil
	}
	w, err := s.cfg.Store.Get(ctx, id)
	if errors.Is(err, ErrWindowNotFound) {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "optin: auto-pass job of an unknown window", slog.String("session", id))
		return nil
	}
	if err != nil {
		return err
	}
	if !w.Resolved() {
		now := s.now()
		if now.Before(w.Deadline) {
			return fmt.Errorf("optin: the auto-pass job of %s fired at %s, before the deadline %s", id, now.Format(time.RFC3339Nano), w.Deadline.Format(time.RFC3339Nano))
		}
		var resolved bool
		if w, resolved, err = s.cfg.Store.Expire(ctx, id, now); err != nil {
			return err
		}
		if resolved {
			s.announce(ctx, w)
			return nil
		}
	}
	if job.Attempt > 1 {
		s.announce(ctx, w)
	}
	return nil
}

// Busy reports the session of userID's open choice window, if any (for
// matchmaking, which queues nobody who still has a choice to make).
func (s *Service) Busy(ctx context.Context, userID string) (sessionID string, busy bool, err error) {
	w, ok, err := s.cfg.Store.OpenFor(ctx, userID, s.now())
	if err != nil || !ok {
		return "", false, err
	}
	return w.SessionID, true, nil
}

// Match returns match id: ErrMatchNotFound for an unknown or invalid id.
func (s *Service) Match(ctx context.Context, id string) (Match, error) {
	if !uuid.Valid(id) {
		return Match{}, ErrMatchNotFound
	}
	return s.cfg.Store.Match(ctx, id)
}
