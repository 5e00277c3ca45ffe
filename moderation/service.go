package moderation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/moderation/internal/webhook"
)

// Limits of what a webhook may make the Service keep: longer reasons and
// severities are cut, and labels beyond MaxLabels dropped, so that an apply
// job's payload stays far below rendezvous.MaxJobPayload.
const (
	MaxLabels      = 32
	maxLabelLen    = 64
	maxReasonLen   = 256
	maxSeverityLen = 32
)

// MaxBanDuration is the longest ban BanUser accepts.
const MaxBanDuration = 10 * 365 * 24 * time.Hour

// Limits of Events.
const (
	DefaultEventsLimit = 100
	MaxEventsLimit     = 1000
)

// Service takes the moderation service's violation webhooks and applies
// them: it ends the call, logs the violation, warns the offender and bans
// repeat offenders. Create one with New; it is safe for concurrent use,
// and every instance sharing the same stores and scheduler may serve any
// request.
type Service struct {
	cfg Config
}

// New returns a Service for cfg, or an error when a required field is
// missing or a duration or threshold is negative.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Events == nil:
		return nil, errors.New("moderation: Config.Events is required")
	case cfg.Bans == nil:
		return nil, errors.New("moderation: Config.Bans is required")
	case cfg.Scheduler == nil:
		return nil, errors.New("moderation: Config.Scheduler is required")
	case cfg.Session == nil:
		return nil, errors.New("moderation: Config.Session is required")
	case cfg.EndSession == nil:
		return nil, errors.New("moderation: Config.EndSession is required")
	case cfg.ForcePass == nil:
		return nil, errors.New("moderation: Config.ForcePass is required")
	case cfg.LeaveQueue == nil:
		return nil, errors.New("moderation: Config.LeaveQueue is required")
	case cfg.Submitter != nil && cfg.BotIdentity == nil:
		return nil, errors.New("moderation: Config.BotIdentity is required with Config.Submitter")
	case cfg.BanThreshold < 0, cfg.Window < 0, cfg.BanDuration < 0, cfg.WebhookTolerance < 0:
		return nil, errors.New("moderation: Config.BanThreshold, Window, BanDuration and WebhookTolerance must not be negative")
	case cfg.BanDuration > MaxBanDuration:
		return nil, fmt.Errorf("moderation: Config.BanDuration must be at most %v", MaxBanDuration)
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
	if cfg.BanThreshold == 0 {
		cfg.BanThreshold = 3
	}
	if cfg.Window == 0 {
		cfg.Window = 24 * time.Hour
	}
	if cfg.BanDuration == 0 {
		cfg.BanDuration = 24 * time.Hour
	}
	if cfg.WebhookTolerance == 0 {
		cfg.WebhookTolerance = webhook.DefaultTolerance
	}
	return &Service{cfg: cfg}, nil
}

// SubmitCall sends a starting call to the moderation service: the
// channel and the moderation bot's subscriber-only identity for it
// (Config.BotIdentity). A host calls it on session:start, asynchronously,
// so that it never delays the call. Without a Submitter it does nothing.
// Failures (of BotIdentity or of the Submitter, a panic among them) are
// logged at WARN and returned; the call goes on unmoderated.
func (s *Service) SubmitCall(ctx context.Context, sessionID, channel string) (err error) {
	if s.cfg.Submitter == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("moderation: submission of session %s panicked: %v", sessionID, r)
		}
		if err != nil {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "moderation: the call is not submitted to the moderation service",
				slog.String("session", sessionID), slog.String("channel", channel), slog.Any("err", err))
		}
	}()
	if sessionID == "" || channel == "" {
		return errors.New("moderation: SubmitCall needs a session id and a channel")
	}
	appID, uid, token, err := s.cfg.BotIdentity(ctx, channel)
	if err != nil {
		return fmt.Errorf("moderation: moderation bot identity for channel %s: %w", channel, err)
	}
	return s.cfg.Submitter.Submit(ctx, StreamSubmission{SessionID: sessionID, Channel: channel, AppID: appID, UID: uid, Token: token})
}

// applyPayload is the payload of an ApplyJobKind job: everything the job
// needs, so that it never reads the webhook again.
type applyPayload struct {
	SessionID  string    `json:"sessionId"`
	Offenders  []string  `json:"offenders"`
	Reason     string    `json:"reason"`
	Labels     []string  `json:"labels,omitempty"`
	Severity   string    `json:"severity,omitempty"`
	ReceivedAt time.Time `json:"receivedAt"`
	Key        string    `json:"key"`
}

// deliveryKey identifies a webhook delivery: the hex SHA-256 of its
// signature, normalised (no "sha256=" prefix, lower case), so that one
// delivery has one key however often it arrives.
func deliveryKey(signature string) string {
	sig := strings.ToLower(strings.TrimSpace(signature))
	sig = strings.TrimPrefix(sig, "sha256=")
	sum := sha256.Sum256([]byte(sig))
	return hex.EncodeToString(sum[:])
}

// ApplyJobKey returns the key of the apply job of the webhook delivery
// with signature: "moderation:" and the delivery key.
func ApplyJobKey(signature string) string { return "moderation:" + deliveryKey(signature) }

// HandleWebhook takes a webhook of the moderation service: the raw body,
// and the values of its signature and timestamp headers. In order:
//
//   - without Config.WebhookSecret it returns ErrWebhookUnavailable (503);
//   - the signature and timestamp are verified (hex HMAC-SHA256 of the
//     body, a timestamp within WebhookTolerance): else
//     rendezvous.ErrInvalidSignature of KindUnauthenticated (401);
//   - a body that is not a JSON object with a sessionId is
//     ErrInvalidWebhookBody (400);
//   - a body that reports no violation is acknowledged (nil) and ignored;
//   - the session is read (its SESSION_NOT_FOUND is returned as it is);
//     a userId that is not one of its two participants is
//     ErrInvalidWebhookBody and nothing is applied;
//   - the violation is handed to a durable ApplyJobKind job, keyed by the
//     delivery (the SHA-256 of the signature), and the delivery is
//     remembered for twice the tolerance: a delivery seen before is
//     acknowledged and not applied again.
//
// The job is scheduled before the delivery is remembered, so a failure
// to schedule (returned, for the service to retry) never makes the retry
// look like a replay; scheduling one delivery twice replaces its job, and
// the job is idempotent. A nil error means the violation will be applied.
func (s *Service) HandleWebhook(ctx context.Context, body []byte, signature, timestamp string) error {
	if s.cfg.WebhookSecret == "" {
		return ErrWebhookUnavailable
	}
	now := s.cfg.Clock.Now()
	if err := webhook.Verify(s.cfg.WebhookSecret, body, signature, timestamp, now, s.cfg.WebhookTolerance); err != nil {
		return err
	}
	p, err := webhook.Parse(body)
	if err != nil {
		return ErrInvalidWebhookBody.WithMessage("the moderation webhook body is not a JSON object with a sessionId").Wrap(err)
	}
	if !p.IsViolation() {
		return nil
	}
	info, err := s.cfg.Session(ctx, p.SessionID)
	if err != nil {
		return err
	}
	offenders := []string{info.Users[0], info.Users[1]}
	if p.UserID != "" {
		if p.UserID != info.Users[0] && p.UserID != info.Users[1] {
			return ErrInvalidWebhookBody.WithMessage("user %q is not a participant of session %q", p.UserID, p.SessionID)
		}
		offenders = []string{p.UserID}
	}
	key := deliveryKey(signature)
	payload, err := json.Marshal(applyPayload{
		SessionID:  p.SessionID,
		Offenders:  offenders,
		Reason:     reasonOf(p),
		Labels:     limitLabels(p.Labels),
		Severity:   cut(p.Severity, maxSeverityLen),
		ReceivedAt: now.UTC(),
		Key:        key,
	})
	if err != nil {
		return err
	}
	if err := s.cfg.Scheduler.Schedule(ctx, rv.Job{Key: "moderation:" + key, Kind: ApplyJobKind, Due: now, Payload: payload}); err != nil {
		return err
	}
	first, err := s.cfg.Bans.SeeDelivery(ctx, key, 2*s.cfg.WebhookTolerance)
	if err != nil {
		// The job is scheduled: the violation will be applied. A replay
		// of this delivery schedules the same job again, which is harmless.
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "moderation: cannot remember the webhook delivery",
			slog.String("session", p.SessionID), slog.String("delivery", key), slog.Any("err", err))
		return nil
	}
	if !first {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "moderation: webhook delivery seen before; acknowledged",
			slog.String("session", p.SessionID), slog.String("delivery", key))
	}
	return nil
}

// reasonOf is the reason shown to the offender and logged: the webhook's
// reason, else its labels, else "violation".
func reasonOf(p webhook.Payload) string {
	switch {
	case p.Reason != "":
		return cut(p.Reason, maxReasonLen)
	case len(p.Labels) > 0:
		return cut(strings.Join(limitLabels(p.Labels), ", "), maxReasonLen)
	}
	return "violation"
}

func limitLabels(labels []string) []string {
	var out []string
	for _, l := range labels {
		if len(out) == MaxLabels {
			break
		}
		out = append(out, cut(l, maxLabelLen))
	}
	return out
}

// cut returns s shortened to at most n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// HandleApply runs an ApplyJobKind job; a host registers it on the
// Scheduler it passes in Config:
//
//	sched.Handle(moderation.ApplyJobKind, svc.HandleApply)
//
// It ends the session (Config.EndSession), then for each offender logs
// the violation (one Event per delivery and offender), sends it
// EventAction "warn" when this run logged it, makes its choice in the
// call's window PASS (Config.ForcePass), and when the offender has
// BanThreshold events received within Window before the violation, bans
// it for BanDuration: the run that creates the ban sends EventAction
// "ban" with the until, once, and takes the user out of the queue
// (Config.LeaveQueue).
//
// Errors are returned, and the scheduler runs the job again: delivery is
// at least once, and every step is idempotent (a second run logs nothing
// new, warns and bans nobody again). A retried run (Attempt > 1) also
// takes a banned offender out of the queue again, in case the run that
// banned it failed right after. Notifications that fail are logged, not
// retried: a warning or a ban is announced at most once.
func (s *Service) HandleApply(ctx context.Context, job rv.Job) error {
	var p applyPayload
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.SessionID == "" || p.Key == "" || len(p.Offenders) == 0 {
		// A payload this package did not write: running it again cannot help.
		s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "moderation: malformed apply job; dropped",
			slog.String("job", job.Key), slog.Any("err", err))
		return nil
	}
	if err := s.cfg.EndSession(ctx, p.SessionID); err != nil {
		return fmt.Errorf("moderation: end session %s: %w", p.SessionID, err)
	}
	for _, user := range p.Offenders {
		if err := s.applyTo(ctx, job, p, user); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) applyTo(ctx context.Context, job rv.Job, p applyPayload, user string) error {
	e, created, err := s.cfg.Events.Record(ctx, Event{
		ID: uuid.New(), UserID: user, SessionID: p.SessionID, Reason: p.Reason,
		Labels: slices.Clone(p.Labels), Severity: p.Severity, DeliveryKey: p.Key, ReceivedAt: p.ReceivedAt,
	})
	if err != nil {
		return fmt.Errorf("moderation: record the violation of %s: %w", user, err)
	}
	if created {
		s.notify(ctx, user, ActionEvent{Action: ActionWarn, Reason: e.Reason})
	}
	if err := s.cfg.ForcePass(ctx, p.SessionID, user); err != nil {
		return fmt.Errorf("moderation: force PASS for %s in session %s: %w", user, p.SessionID, err)
	}
	n, err := s.cfg.Events.CountSince(ctx, user, p.ReceivedAt.Add(-s.cfg.Window))
	if err != nil {
		return fmt.Errorf("moderation: count the violations of %s: %w", user, err)
	}
	if n < s.cfg.BanThreshold {
		return nil
	}
	now := s.cfg.Clock.Now()
	ban, banned, err := s.cfg.Bans.Ban(ctx, user, now.Add(s.cfg.BanDuration), now)
	if err != nil {
		return fmt.Errorf("moderation: ban %s: %w", user, err)
	}
	if banned {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "moderation: user banned",
			slog.String("user", user), slog.Int("violations", n), slog.Time("until", ban.Until))
		s.notifyBan(ctx, ban, e.Reason)
	}
	if banned || job.Attempt > 1 {
		// A lost claim must not stop the user's removal from the queue.
		if err := s.cfg.LeaveQueue(context.WithoutCancel(ctx), user); err != nil {
			return fmt.Errorf("moderation: take banned %s out of the queue: %w", user, err)
		}
	}
	return nil
}

func (s *Service) notifyBan(ctx context.Context, b Ban, reason string) {
	until := b.Until.UTC()
	s.notify(ctx, b.UserID, ActionEvent{Action: ActionBan, Reason: reason, Until: &until})
}

// notify sends EventAction to user, logging a failure.
func (s *Service) notify(ctx context.Context, user string, a ActionEvent) {
	ev := rv.NewEvent(Namespace, rv.UserTarget(user), EventAction, a)
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), ev); err != nil {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "moderation: cannot notify the offender",
			slog.String("user", user), slog.String("action", a.Action), slog.Any("err", err))
	}
}

// bannedError is ErrUserBanned for a ban until until.
func bannedError(until time.Time) error {
	until = until.UTC()
	return ErrUserBanned.WithMessage("you are banned until %s", until.Format(time.RFC3339)).
		WithDetails(map[string]any{"until": until})
}

// CheckBan returns nil when userID is not banned, else ErrUserBanned
// (403) whose message names the end of the ban and whose Details hold
// "until", a time.Time in UTC (RFC 3339 in JSON). The queue and the call
// namespaces call it before letting a user in.
func (s *Service) CheckBan(ctx context.Context, userID string) error {
	b, ok, err := s.cfg.Bans.Get(ctx, userID, s.cfg.Clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	return bannedError(b.Until)
}

// BanUser bans userID for d (an operator's ban; 0 means BanDuration), or
// returns the ban already in force unchanged, takes the user out of the
// queue, and sends it EventAction "ban" when the ban is new. ErrInvalidBan
// for an empty userID, a negative d or one over MaxBanDuration.
func (s *Service) BanUser(ctx context.Context, userID string, d time.Duration) (Ban, error) {
	switch {
	case strings.TrimSpace(userID) == "":
		return Ban{}, ErrInvalidBan.WithMessage("a ban needs a user id")
	case d < 0:
		return Ban{}, ErrInvalidBan.WithMessage("a ban's duration must not be negative")
	case d > MaxBanDuration:
		return Ban{}, ErrInvalidBan.WithMessage("a ban lasts at most %d hours", int(MaxBanDuration/time.Hour))
	}
	if d == 0 {
		d = s.cfg.BanDuration
	}
	now := s.cfg.Clock.Now()
	b, created, err := s.cfg.Bans.Ban(ctx, userID, now.Add(d), now)
	if err != nil {
		return Ban{}, err
	}
	if created {
		s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "moderation: user banned by an operator",
			slog.String("user", userID), slog.Time("until", b.Until))
		s.notifyBan(ctx, b, "banned by a moderator")
	}
	if err := s.cfg.LeaveQueue(ctx, userID); err != nil {
		return b, err
	}
	return b, nil
}

// LiftBan ends userID's ban and reports whether there was one.
func (s *Service) LiftBan(ctx context.Context, userID string) (bool, error) {
	return s.cfg.Bans.Lift(ctx, userID)
}

// Events returns up to limit logged violations of userID (of everyone when
// empty), newest first. A limit of zero or less means DefaultEventsLimit
// (100); limits over MaxEventsLimit (1000) are cut to it.
func (s *Service) Events(ctx context.Context, userID string, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = DefaultEventsLimit
	}
	limit = min(limit, MaxEventsLimit)
	return s.cfg.Events.List(ctx, userID, limit)
}
