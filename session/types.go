package session

import (
	"context"
	"log/slog"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// Namespace is the Socket.IO namespace of the call's events.
const Namespace = "/video"

// Names of the events sent on Namespace to rendezvous.UserTarget(userID).
const (
	// EventStart carries a participant's StartEvent, at the start and to
	// each socket that connects during the call.
	EventStart = "session:start"
	// EventEnd carries EndEvent to both participants when the call ends.
	EventEnd = "session:end"
)

// EndJobKind is the kind of the durable job that ends a session at EndAt
// and announces every end; a host registers (*Service).HandleEnd for it on
// the Scheduler it passes in Config.
const EndJobKind = "session.end"

// EndJobKey is the key of session id's end job.
func EndJobKey(id string) string { return "session:" + id + ":end" }

// EndReason says why a session ended.
type EndReason string

// The reasons of a session's end.
const (
	ReasonTimeout    EndReason = "timeout"     // the duration ran out
	ReasonEnded      EndReason = "ended"       // a participant hung up
	ReasonTokenError EndReason = "token_error" // credentials could not be issued; both refunded
	ReasonModeration EndReason = "moderation"  // moderation ended it; the offender's choice is PASS
)

// OffersChoice reports whether an end by r opens a choice window: the call
// took place (it timed out, a participant hung up, or moderation ended
// it), as opposed to a session whose credentials could not be issued.
func (r EndReason) OffersChoice() bool {
	return r == ReasonTimeout || r == ReasonEnded || r == ReasonModeration
}

// Participant is one user of a Session. UserID and DebitKey never leave
// the server; RTCUID and RTMUserID are what the other side of the call
// sees, chosen at random per session so that they link nobody across
// sessions.
type Participant struct {
	UserID   string
	DebitKey string
	// RTCUID is the participant's Agora RTC uid: random, non-zero, and
	// different from the other participant's.
	RTCUID uint32
	// RTMUserID is the participant's Agora RTM user id: a per-session
	// pseudonym.
	RTMUserID string
}

// Session is one video call between two users.
type Session struct {
	ID           string
	QueueKey     string
	Region       string
	Participants [2]Participant
	CreatedAt    time.Time
	StartAt      time.Time
	EndAt        time.Time
	// EndedAt is zero while the session is live.
	EndedAt   time.Time
	EndReason EndReason
}

// Live reports whether the session has not ended.
func (s Session) Live() bool { return s.EndedAt.IsZero() }

// Participant returns userID's participant record and its index (0 or 1),
// or false when userID is not in the session.
func (s Session) Participant(userID string) (Participant, int, bool) {
	for i, p := range s.Participants {
		if p.UserID == userID {
			return p, i, true
		}
	}
	return Participant{}, -1, false
}

// ChannelName is the Agora channel of session id: "session_<id>".
func ChannelName(id string) string { return "session_" + id }

// StartRequest asks Start for the session of a new pair.
type StartRequest struct {
	// SessionID is chosen by the queue when the pair is popped; Start is
	// idempotent by it.
	SessionID string
	QueueKey  string
	Region    string
	// Users are the pair, with the keys of the debits that paid for it.
	Users     [2]StartUser
	MatchedAt time.Time
}

// StartUser is one user of a StartRequest.
type StartUser struct {
	UserID   string
	DebitKey string
}

// RTCCredentials let a participant join the call's Agora RTC channel.
type RTCCredentials struct {
	AppID string `json:"appId"`
	Token string `json:"token"`
	UID   uint32 `json:"uid"`
}

// RTMCredentials let a participant log in to Agora RTM.
type RTMCredentials struct {
	Token  string `json:"token"`
	UserID string `json:"userId"`
}

// StartEvent is the data of EventStart for one participant. RTC and RTM
// are null when no VideoTokenIssuer is configured (development).
type StartEvent struct {
	SessionID       string          `json:"sessionId"`
	ChannelName     string          `json:"channelName"`
	StartAt         time.Time       `json:"startAt"`
	EndAt           time.Time       `json:"endAt"`
	DurationSeconds int             `json:"durationSeconds"`
	ExpiresAt       time.Time       `json:"expiresAt"`
	RTC             *RTCCredentials `json:"rtc"`
	RTM             *RTMCredentials `json:"rtm"`
}

// View is a session as GET /sessions/{id} shows it to a participant: the
// StartEvent (with fresh credentials while live) and its state.
type View struct {
	StartEvent
	// Status is "live" or "ended".
	Status    string     `json:"status"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
	EndReason EndReason  `json:"endReason,omitempty"`
}

// EndEvent is the data of EventEnd.
type EndEvent struct {
	SessionID string    `json:"sessionId"`
	Reason    EndReason `json:"reason"`
	EndedAt   time.Time `json:"endedAt"`
}

// TokenRequest asks a VideoTokenIssuer for one participant's credentials.
type TokenRequest struct {
	Channel   string
	RTCUID    uint32
	RTMUserID string
	// IssuedAt is the issue time written into the tokens; they expire at
	// IssuedAt+TTL.
	IssuedAt time.Time
	TTL      time.Duration
}

// VideoCredentials are one participant's credentials for a call.
type VideoCredentials struct {
	RTC *RTCCredentials
	RTM *RTMCredentials
}

// VideoTokenIssuer issues the credentials of a call's participants.
// session/agora implements it with Agora AccessToken2.
type VideoTokenIssuer interface {
	IssueVideoTokens(ctx context.Context, req TokenRequest) (VideoCredentials, error)
}

// Scheduler schedules and cancels durable jobs; *rendezvous.Scheduler
// implements it.
type Scheduler = rv.JobScheduler

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// Store keeps sessions. Required.
	Store Store
	// Scheduler runs the end jobs (EndJobKind). Required: the end of a
	// call is durable.
	Scheduler Scheduler
	// Issuer issues the participants' credentials. Default none: the
	// events carry null rtc and rtm (development without Agora).
	Issuer VideoTokenIssuer
	// Notifier publishes EventStart and EventEnd. Default: dropped.
	Notifier rv.Notifier
	// Refund gives back the token of a debit key, at most once (nil for an
	// unknown key). Required: a session whose credentials cannot be issued
	// refunds both participants.
	Refund func(ctx context.Context, debitKey string) error
	// OnEnded runs in the end job for a session whose end offers a choice
	// (EndReason.OffersChoice: the call took place), and also
	// synchronously in End, before either announces the end; it must be
	// idempotent (the optin feature opens the choice window). An error
	// retries the job. Default none.
	OnEnded func(ctx context.Context, s Session) error
	// OnStarted runs after session:start was sent for a live session (and
	// again if its pair is driven again); it must not block: the moderation
	// feature's submission to its service runs from here, in a goroutine of
	// its own. Default none.
	OnStarted func(ctx context.Context, s Session)
	// OnLiveChange, when set, is told of every session this Service
	// creates (delta 1, reason "") and ends (delta -1, with its reason),
	// each exactly once over all instances: summed over them, the deltas
	// count the live sessions. It must be fast (a metrics counter).
	// Default none.
	OnLiveChange func(delta int, reason EndReason)
	// Clock tells the time. Default rendezvous.SystemClock.
	Clock rv.Clock
	// Logger receives failures that cannot be returned. Default: silent.
	Logger *slog.Logger
	// Duration is the length of a call. Default 45 s.
	Duration time.Duration
	// TokenTTL is the lifetime of issued credentials. Default 120 s.
	TokenTTL time.Duration
}
