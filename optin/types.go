package optin

import (
	"context"
	"log/slog"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// Namespace is the Socket.IO namespace of the outcome's events (the
// call's).
const Namespace = "/video"

// Names of the events sent on Namespace to both participants, once.
const (
	EventMutual    = "match:mutual"     // MutualEvent
	EventNonMutual = "match:non_mutual" // NonMutualEvent
)

// AutoPassJobKind is the kind of the durable job that resolves a window's
// missing choices as PASS at its deadline; a host registers
// (*Service).HandleAutoPass for it on the Scheduler it passes in Config.
const AutoPassJobKind = "optin.autopass"

// AutoPassJobKey is the key of session id's auto-pass job.
func AutoPassJobKey(sessionID string) string { return "optin:" + sessionID + ":autopass" }

// Choice is a participant's decision.
type Choice string

// The choices.
const (
	ChoiceMatch Choice = "MATCH"
	ChoicePass  Choice = "PASS"
)

// Outcome is how a window was resolved.
type Outcome string

// The outcomes.
const (
	Mutual    Outcome = "mutual"
	NonMutual Outcome = "non_mutual"
)

// Window is the choice window of one ended session.
type Window struct {
	SessionID string
	// Users are the two participants; Choices[i] is Users[i]'s choice, ""
	// until made.
	Users    [2]string
	Choices  [2]Choice
	Deadline time.Time
	// Outcome is "" until the window is resolved.
	Outcome    Outcome
	MatchID    string
	ResolvedAt time.Time
}

// Resolved reports whether the window has an outcome.
func (w Window) Resolved() bool { return w.Outcome != "" }

// Match is the pair of users who both chose MATCH: one row per pair of
// users (Users sorted), made by the first mutual outcome between them.
type Match struct {
	ID        string
	Users     [2]string
	SessionID string
	CreatedAt time.Time
}

// Statuses of a Result.
const (
	StatusPending  = "pending"
	StatusResolved = "resolved"
)

// Result answers Choose: StatusPending with the Deadline, or
// StatusResolved with the Outcome (and the MatchID when mutual).
type Result struct {
	Status   string     `json:"status"`
	Outcome  Outcome    `json:"outcome,omitempty"`
	MatchID  string     `json:"matchId,omitempty"`
	Deadline *time.Time `json:"deadline,omitempty"`
}

// MutualEvent is the data of EventMutual.
type MutualEvent struct {
	SessionID string `json:"sessionId"`
	MatchID   string `json:"matchId"`
}

// NonMutualEvent is the data of EventNonMutual.
type NonMutualEvent struct {
	SessionID string  `json:"sessionId"`
	Outcome   Outcome `json:"outcome"`
}

// SessionInfo is what the optin feature needs to know of a session.
type SessionInfo struct {
	Users [2]string
	// Ended reports whether the call is over; EndedAt is when.
	Ended   bool
	EndedAt time.Time
	// ChoiceOffered reports whether the end opens a choice window (the
	// call took place: it timed out or a participant hung up), as opposed
	// to a session that ended without a call (credentials failed,
	// moderation).
	ChoiceOffered bool
}

// Scheduler schedules and cancels durable jobs; *rendezvous.Scheduler
// implements it.
type Scheduler = rv.JobScheduler

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// Store keeps windows and matches. Required.
	Store Store
	// Scheduler runs the auto-pass jobs (AutoPassJobKind). Required.
	Scheduler Scheduler
	// Session looks a session up. For an unknown session it returns the
	// session feature's not-found error (SESSION_NOT_FOUND), which Choose
	// passes on. Required; the session feature's store, adapted.
	Session func(ctx context.Context, sessionID string) (SessionInfo, error)
	// Notifier publishes EventMutual and EventNonMutual. Default: dropped.
	Notifier rv.Notifier
	// Clock tells the time. Default rendezvous.SystemClock.
	Clock rv.Clock
	// Logger receives failures that cannot be returned. Default: silent.
	Logger *slog.Logger
	// Window is how long after the end of a call choices are taken.
	// Default 60 s.
	Window time.Duration
}
