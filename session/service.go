package session

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

// Statuses of a View.
const (
	StatusLive  = "live"
	StatusEnded = "ended"
)

// EndTolerance is how early an end job may fire and still end its
// session: due times are kept to the millisecond by some job stores, and
// the clocks of two instances differ a little. An end job that fires
// earlier fails, to be retried after the scheduler's backoff.
const EndTolerance = 50 * time.Millisecond

// Service runs video sessions: Start for a new pair, the end job
// (HandleEnd), a participant's hang-up (End), moderation (Terminate), and
// the reads of the transport (Get, Current, Busy, Lookup). It is safe for
// concurrent use, and any number of Services on any number of processes
// may share a Store and a Scheduler's job store.
type Service struct {
	cfg Config
}

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("session: Config.Store is required")
	case cfg.Scheduler == nil:
		return nil, errors.New("session: Config.Scheduler is required")
	case cfg.Refund == nil:
		return nil, errors.New("session: Config.Refund is required")
	case cfg.Duration < 0 || cfg.TokenTTL < 0:
		return nil, errors.New("session: Config.Duration and TokenTTL must not be negative")
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
	if cfg.Duration == 0 {
		cfg.Duration = 45 * time.Second
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 120 * time.Second
	}
	if cfg.Duration < time.Second || cfg.TokenTTL < time.Second {
		return nil, errors.New("session: Config.Duration and TokenTTL must be at least one second")
	}
	return &Service{cfg: cfg}, nil
}

// Config returns the configuration in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

// Start starts the session of a new pair, or carries on with the one
// already made for req.SessionID: it stores the session (random RTC uids
// and RTM pseudonyms for both), schedules its end job at EndAt, issues
// both participants' credentials and sends each of them EventStart.
//
// Start is idempotent by req.SessionID: a pair driven again gets the
// stored session, with its uids, and its start is sent again with fresh
// credentials while the session is live (and its EndAt still ahead); an
// ended session is returned as it is. When the credentials cannot be issued, the session ends at
// once with ReasonTokenError (both debits are refunded by the end job)
// and Start returns it without an error: the pair has been dealt with.
// ErrInvalidStart for a request without a UUID session id, or without two
// distinct users and debit keys.
func (s *Service) Start(ctx context.Context, req StartRequest) (Session, error) {
	if err := validStart(req); err != nil {
		return Session{}, err
	}
	// To the millisecond, as job stores keep due times: the end job is
	// due at EndAt exactly.
	now := s.now().Truncate(time.Millisecond)
	sess := Session{
		ID: req.SessionID, QueueKey: req.QueueKey, Region: req.Region,
		CreatedAt: now, StartAt: now, EndAt: now.Add(s.cfg.Duration),
	}
	uids := randomUIDs()
	for i, u := range req.Users {
		sess.Participants[i] = Participant{UserID: u.UserID, DebitKey: u.DebitKey, RTCUID: uids[i], RTMUserID: pseudonym()}
	}
	sess, created, err := s.cfg.Store.Create(ctx, sess)
	if err != nil {
		return Session{}, err
	}
	if created && s.cfg.OnLiveChange != nil {
		s.cfg.OnLiveChange(1, "")
	}
	if !sess.Live() {
		return sess, nil
	}
	// Scheduled for a new session and again for a live one driven again
	// (a crash may have come between the create and the schedule):
	// scheduling replaces the job, with the same due time.
	if err := s.cfg.Scheduler.Schedule(ctx, endJob(sess.ID, sess.EndAt)); err != nil {
		return Session{}, err
	}
	if !now.Before(sess.EndAt) {
		// Driven again after its time ran out: the end job ends it now.
		return sess, nil
	}
	events := make([]rv.Event, 0, 2)
	for _, p := range sess.Participants {
		ev, err := s.startEvent(ctx, sess, p, now)
		if err != nil {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "session: video credentials not issued; the session ends",
				slog.String("session", sess.ID), slog.Any("err", err))
			return s.Terminate(ctx, sess.ID, ReasonTokenError)
		}
		events = append(events, rv.NewEvent(Namespace, rv.UserTarget(p.UserID), EventStart, ev))
	}
	s.notify(ctx, events...)
	if s.cfg.OnStarted != nil {
		s.cfg.OnStarted(ctx, sess)
	}
	return sess, nil
}

func validStart(req StartRequest) error {
	a, b := req.Users[0], req.Users[1]
	switch {
	case !uuid.Valid(req.SessionID):
		return ErrInvalidStart.WithMessage("the session id must be a UUID")
	case a.UserID == "" || b.UserID == "":
		return ErrInvalidStart.WithMessage("a session needs two users")
	case a.UserID == b.UserID:
		return ErrInvalidStart.WithMessage("a session needs two distinct users")
	case a.DebitKey == "" || b.DebitKey == "" || a.DebitKey == b.DebitKey:
		return ErrInvalidStart.WithMessage("a session needs the two distinct debit keys of its users")
	}
	return nil
}

// randomUIDs returns two distinct, non-zero random RTC uids.
func randomUIDs() [2]uint32 {
	var out [2]uint32
	for i := range out {
		for out[i] == 0 || i == 1 && out[1] == out[0] {
			var b [4]byte
			if _, err := rand.Read(b[:]); err != nil {
				panic("session: crypto/rand failed: " + err.Error())
			}
			out[i] = binary.BigEndian.Uint32(b[:])
		}
	}
	return out
}

// pseudonym returns a random RTM user id: "p" and 16 hex digits.
func pseudonym() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("session: crypto/rand failed: " + err.Error())
	}
	return "p" + hex.EncodeToString(b[:])
}

func endJob(id string, due time.Time) rv.Job {
	payload, _ := json.Marshal(id)
	return rv.Job{Key: EndJobKey(id), Kind: EndJobKind, Due: due, Payload: payload}
}

// startEvent returns p's StartEvent with credentials issued at now.
func (s *Service) startEvent(ctx context.Context, sess Session, p Participant, now time.Time) (StartEvent, error) {
	ev := StartEvent{
		SessionID:       sess.ID,
		ChannelName:     ChannelName(sess.ID),
		StartAt:         sess.StartAt,
		EndAt:           sess.EndAt,
		DurationSeconds: int(sess.EndAt.Sub(sess.StartAt) / time.Second),
		ExpiresAt:       now.Add(s.cfg.TokenTTL),
	}
	if s.cfg.Issuer == nil {
		return ev, nil
	}
	creds, err := s.cfg.Issuer.IssueVideoTokens(ctx, TokenRequest{
		Channel: ev.ChannelName, RTCUID: p.RTCUID, RTMUserID: p.RTMUserID, IssuedAt: now, TTL: s.cfg.TokenTTL,
	})
	if err != nil {
		return StartEvent{}, ErrTokenIssuer.Wrap(err)
	}
	ev.RTC, ev.RTM = creds.RTC, creds.RTM
	return ev, nil
}

// Terminate ends the live session id with reason (moderation passes
// ReasonModeration), and returns it. For an end that offers a choice
// (EndReason.OffersChoice), Config.OnEnded runs before Terminate returns, so that the
// choice window is open before either participant hears of the end; the
// end job is then rescheduled due at once, to announce the end (EventEnd)
// and finish it (OnEnded again, or the refunds of ReasonTokenError) from
// the durable scheduler. A session that had already ended is returned as
// it is, and nothing is announced again. ErrSessionNotFound for an unknown
// id.
func (s *Service) Terminate(ctx context.Context, id string, reason EndReason) (Session, error) {
	if !uuid.Valid(id) {
		return Session{}, ErrSessionNotFound
	}
	now := s.now()
	sess, ended, err := s.cfg.Store.End(ctx, id, reason, now)
	if err != nil || !ended {
		return sess, err
	}
	s.ended(sess)
	if sess.EndReason.OffersChoice() && s.cfg.OnEnded != nil {
		// The end job runs OnEnded again and retries it until it works, so
		// a failure here delays the window but does not lose it.
		if err := s.cfg.OnEnded(ctx, sess); err != nil {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "session: OnEnded failed; the end job retries it",
				slog.String("session", sess.ID), slog.Any("err", err))
		}
	}
	if err := s.cfg.Scheduler.Schedule(ctx, endJob(sess.ID, now)); err != nil {
		// The job scheduled by Start is still due at EndAt and finishes the
		// end then.
		return sess, err
	}
	return sess, nil
}

// End is a participant's hang-up: it ends the live session id with
// ReasonEnded (see Terminate) and returns the participant's view of it. A
// session that had already ended is returned as it is.
// ErrSessionNotFound for an unknown or invalid id, or a user who is not
// one of its participants.
func (s *Service) End(ctx context.Context, userID, id string) (View, error) {
	sess, p, err := s.participant(ctx, userID, id)
	if err != nil {
		return View{}, err
	}
	if sess.Live() {
		if sess, err = s.Terminate(ctx, id, ReasonEnded); err != nil {
			return View{}, err
		}
	}
	return s.view(ctx, sess, p)
}

// HandleEnd is the JobHandler of EndJobKind: it ends a live session whose
// EndAt has come (ReasonTimeout), then finishes the end, whatever ended
// it: Config.OnEnded for ReasonTimeout and ReasonEnded (an error retries
// the job), the refund of both debits for ReasonTokenError, and EventEnd
// to both participants. A job that fires more than EndTolerance before
// EndAt fails, to be retried. Like every job it may run more than once
// after a crash, so the end is announced at least once.
func (s *Service) HandleEnd(ctx context.Context, job rv.Job) error {
	var id string
	if err := json.Unmarshal(job.Payload, &id); err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "session: end job without a session id", slog.String("key", job.Key))
		return nil
	}
	sess, err := s.cfg.Store.Get(ctx, id)
	if errors.Is(err, ErrSessionNotFound) {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "session: end job of an unknown session", slog.String("session", id))
		return nil
	}
	if err != nil {
		return err
	}
	if sess.Live() {
		now := s.now()
		if now.Before(sess.EndAt.Add(-EndTolerance)) {
			return fmt.Errorf("session: the end job of %s fired at %s, before the end at %s", id, now.Format(time.RFC3339Nano), sess.EndAt.Format(time.RFC3339Nano))
		}
		var ended bool
		if sess, ended, err = s.cfg.Store.End(ctx, id, ReasonTimeout, now); err != nil {
			return err
		}
		if ended {
			s.ended(sess)
		}
	}
	switch {
	case sess.EndReason.OffersChoice():
		if s.cfg.OnEnded != nil {
			if err := s.cfg.OnEnded(ctx, sess); err != nil {
				return fmt.Errorf("session: OnEnded of %s: %w", id, err)
			}
		}
	case sess.EndReason == ReasonTokenError:
		for _, p := range sess.Participants {
			if err := s.cfg.Refund(ctx, p.DebitKey); err != nil {
				return fmt.Errorf("session: refund of %s: %w", id, err)
			}
		}
	}
	ev := EndEvent{SessionID: sess.ID, Reason: sess.EndReason, EndedAt: sess.EndedAt}
	events := make([]rv.Event, 0, 2)
	for _, p := range sess.Participants {
		events = append(events, rv.NewEvent(Namespace, rv.UserTarget(p.UserID), EventEnd, ev))
	}
	// An error retries the job, and the announcement with it.
	return s.cfg.Notifier.Notify(ctx, events...)
}

// Get returns userID's view of session id: while it is live, Status
// "live" with fresh credentials; after its end, Status "ended" with
// EndedAt and EndReason, and no credentials. ErrSessionNotFound for an
// unknown or invalid id, or a user who is not one of its participants;
// ErrTokenIssuer when the credentials cannot be issued.
func (s *Service) Get(ctx context.Context, userID, id string) (View, error) {
	sess, p, err := s.participant(ctx, userID, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, sess, p)
}

func (s *Service) participant(ctx context.Context, userID, id string) (Session, Participant, error) {
	if !uuid.Valid(id) || userID == "" {
		return Session{}, Participant{}, ErrSessionNotFound
	}
	sess, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return Session{}, Participant{}, err
	}
	p, _, ok := sess.Participant(userID)
	if !ok {
		return Session{}, Participant{}, ErrSessionNotFound
	}
	return sess, p, nil
}

func (s *Service) view(ctx context.Context, sess Session, p Participant) (View, error) {
	if sess.Live() {
		ev, err := s.startEvent(ctx, sess, p, s.now())
		if err != nil {
			return View{}, err
		}
		return View{StartEvent: ev, Status: StatusLive}, nil
	}
	ev := StartEvent{
		SessionID: sess.ID, ChannelName: ChannelName(sess.ID), StartAt: sess.StartAt, EndAt: sess.EndAt,
		DurationSeconds: int(sess.EndAt.Sub(sess.StartAt) / time.Second),
	}
	endedAt := sess.EndedAt
	return View{StartEvent: ev, Status: StatusEnded, EndedAt: &endedAt, EndReason: sess.EndReason}, nil
}

// Current returns the StartEvent of userID's live session, with fresh
// credentials, for a socket that connects during the call; false when the
// user has none. ErrTokenIssuer when the credentials cannot be issued.
func (s *Service) Current(ctx context.Context, userID string) (StartEvent, bool, error) {
	sess, ok, err := s.cfg.Store.Live(ctx, userID)
	if err != nil || !ok {
		return StartEvent{}, false, err
	}
	p, _, _ := sess.Participant(userID)
	ev, err := s.startEvent(ctx, sess, p, s.now())
	if err != nil {
		return StartEvent{}, false, err
	}
	return ev, true, nil
}

// Busy reports the id of userID's live session, if any (for matchmaking,
// which queues nobody who is in a call).
func (s *Service) Busy(ctx context.Context, userID string) (sessionID string, busy bool, err error) {
	sess, ok, err := s.cfg.Store.Live(ctx, userID)
	if err != nil || !ok {
		return "", false, err
	}
	return sess.ID, true, nil
}

// ended tells Config.OnLiveChange of a session that this Service ended.
func (s *Service) ended(sess Session) {
	if s.cfg.OnLiveChange != nil {
		s.cfg.OnLiveChange(-1, sess.EndReason)
	}
}

// Lookup returns session id, whoever asks: ErrSessionNotFound for an
// unknown or invalid id. It is for the server's other features (the
// optin feature's Config.Session); its result holds user ids and debit
// keys, never to be shown to a participant.
func (s *Service) Lookup(ctx context.Context, id string) (Session, error) {
	if !uuid.Valid(id) {
		return Session{}, ErrSessionNotFound
	}
	return s.cfg.Store.Get(ctx, id)
}

func (s *Service) notify(ctx context.Context, evs ...rv.Event) {
	// The state change is committed; a lost event must not turn it into
	// an error for the caller, so it is logged instead.
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), evs...); err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "session: event not published", slog.String("event", evs[0].Name), slog.Any("err", err))
	}
}
