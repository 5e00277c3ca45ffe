package moderation

import (
	"context"
	"log/slog"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// Namespace is the Socket.IO namespace of moderation events (the call's).
const Namespace = "/video"

// EventAction is sent to an offender on Namespace: ActionEvent.
const EventAction = "moderation:action"

// ApplyJobKind is the kind of the durable job that applies a verified
// violation (end the call, log, ban); a host registers
// (*Service).HandleApply for it on the Scheduler it passes in Config.
const ApplyJobKind = "moderation.apply"

// Actions of an ActionEvent.
const (
	ActionWarn = "warn"
	ActionBan  = "ban"
)

// ActionEvent is the data of EventAction: a warning for each violation, and
// one ban when the threshold is reached (with Until).
type ActionEvent struct {
	Action string     `json:"action"`
	Reason string     `json:"reason"`
	Until  *time.Time `json:"until,omitempty"`
}

// Event is one logged violation of one user (a ModerationEvent).
type Event struct {
	ID        string   `json:"id"`
	UserID    string   `json:"userId"`
	SessionID string   `json:"sessionId"`
	Reason    string   `json:"reason"`
	Labels    []string `json:"labels"`
	Severity  string   `json:"severity,omitempty"`
	// DeliveryKey identifies the webhook delivery that reported it; one
	// delivery logs one Event per offender, however often it arrives.
	DeliveryKey string    `json:"-"`
	ReceivedAt  time.Time `json:"receivedAt"`
}

// Ban keeps a user out of the queue and the call namespaces until Until.
type Ban struct {
	UserID string    `json:"userId"`
	Until  time.Time `json:"until"`
}

// SessionInfo is what moderation needs of a call.
type SessionInfo struct {
	Users [2]string
	Live  bool
}

// StreamSubmission is what is sent to the moderation service when a call
// starts: the channel, and a subscriber-only identity of the moderation
// bot (never a participant's credentials).
type StreamSubmission struct {
	SessionID string
	Channel   string
	AppID     string
	UID       uint32
	Token     string
}

// Submitter sends a call to the moderation service; moderation/hive
// implements it.
type Submitter interface {
	Submit(ctx context.Context, s StreamSubmission) error
}

// Scheduler schedules and cancels durable jobs; *rendezvous.Scheduler
// implements it.
type Scheduler = rv.JobScheduler

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// Events logs violations. Required.
	Events EventStore
	// Bans keeps bans and the seen webhook deliveries. Required.
	Bans BanStore
	// Scheduler runs the apply jobs (ApplyJobKind). Required.
	Scheduler Scheduler
	// WebhookSecret verifies the moderation service's webhooks (HMAC-SHA256
	// of the raw body). Empty: HandleWebhook answers ErrWebhookUnavailable.
	WebhookSecret string
	// Session reads a call; it returns the session feature's
	// SESSION_NOT_FOUND for an unknown one. Required.
	Session func(ctx context.Context, sessionID string) (SessionInfo, error)
	// EndSession ends a call for moderation (idempotent). Required.
	EndSession func(ctx context.Context, sessionID string) error
	// ForcePass makes userID's choice in the call's window PASS
	// (idempotent; nothing when there is no open window). Required.
	ForcePass func(ctx context.Context, sessionID, userID string) error
	// LeaveQueue takes a banned user out of the queue with a refund
	// (idempotent). Required.
	LeaveQueue func(ctx context.Context, userID string) error
	// Submitter sends starting calls to the moderation service. Default:
	// none (SubmitCall does nothing).
	Submitter Submitter
	// BotIdentity issues the moderation bot's subscriber-only uid and
	// token for a channel. Required with Submitter.
	BotIdentity func(ctx context.Context, channel string) (appID string, uid uint32, token string, err error)
	// Notifier publishes EventAction. Default: dropped.
	Notifier rv.Notifier
	// Clock tells the time. Default rendezvous.SystemClock.
	Clock rv.Clock
	// Logger receives failures that cannot be returned. Default: silent.
	Logger *slog.Logger
	// BanThreshold violations within Window ban a user for BanDuration.
	// Defaults 3, 24 h and 24 h.
	BanThreshold int
	Window       time.Duration
	BanDuration  time.Duration
	// WebhookTolerance is how far a webhook's timestamp may be from now.
	// Default 5 min.
	WebhookTolerance time.Duration
}
