package matchmaking

import (
	"context"
	"log/slog"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// Namespace is the Socket.IO namespace of the queue's events.
const Namespace = "/queue"

// Names of the events sent on Namespace to rendezvous.UserTarget(userID).
const (
	// EventMatch is sent to each member of a new pair: MatchEvent.
	EventMatch = "match"
	// EventLeft is sent to a socket that connects after its user was taken
	// out of the queue in their absence: Notice.
	EventLeft = "queue:left"
)

// GraceJobKind is the kind of the durable job that takes a user out of
// the queue, with a refund, once their /queue sockets have all been gone
// for Config.DisconnectGrace; a host registers (*Service).HandleGrace for
// it on the Scheduler it passes in Config.
const GraceJobKind = "matchmaking.grace"

// GraceJobKey is the key of userID's disconnect-grace job.
func GraceJobKey(userID string) string { return "queue:" + userID + ":grace" }

// Limits of a join request.
const (
	MaxRegionLen        = 32   // characters of a region, after trimming
	MaxPreferenceKeys   = 16   // keys of the preferences object
	MaxPreferencesBytes = 4096 // bytes of the preferences' canonical JSON
)

// EntryState is the state of a user's queue entry.
type EntryState string

// The states of an Entry.
const (
	// StateJoining: reserved by Join, whose debit is in progress; not yet
	// in the queue, so never paired.
	StateJoining EntryState = "joining"
	// StateWaiting: in the queue, FIFO by join order within its QueueKey.
	StateWaiting EntryState = "waiting"
	// StateMatched: popped into a pair whose session is being started.
	StateMatched EntryState = "matched"
)

// Entry is a user's place in the queue. A user has at most one entry,
// whatever the queue key.
type Entry struct {
	UserID   string
	QueueKey string
	// DebitKey is the key of the token debit that paid for this stay in
	// the queue: one key, one debit, one refund at most.
	DebitKey string
	State    EntryState
	// SessionID is the session of the pair, when State is StateMatched.
	SessionID string
	// JoinedAt is when Join reserved the entry.
	JoinedAt time.Time
}

// Member is one user of a Pair.
type Member struct {
	UserID   string
	DebitKey string
	JoinedAt time.Time
}

// Pair is two users taken from the head of one queue together, and the
// session id chosen for them when they were popped.
type Pair struct {
	SessionID string
	QueueKey  string
	Members   [2]Member
	MatchedAt time.Time
}

// Statuses of JoinResult, LeaveResult and StatusResult.
const (
	StatusQueued         = "queued"
	StatusAlreadyQueued  = "already_queued"
	StatusLeft           = "left"
	StatusNotQueued      = "not_queued"
	StatusMatched        = "matched"
	StatusAlreadyMatched = "already_matched"
)

// JoinResult answers Join: StatusQueued (a token was debited) or
// StatusAlreadyQueued (nothing was charged). Position is how many users
// are ahead in the queue (0 = next).
type JoinResult struct {
	Status   string `json:"status"`
	QueueKey string `json:"queueKey"`
	Position int    `json:"position"`
}

// LeaveResult answers Leave: StatusLeft with Refunded, StatusNotQueued, or
// StatusAlreadyMatched with the SessionID of the pair.
type LeaveResult struct {
	Status    string `json:"status"`
	Refunded  bool   `json:"refunded"`
	SessionID string `json:"sessionId,omitempty"`
}

// StatusResult answers Status: StatusQueued with QueueKey and Position,
// StatusMatched with SessionID, or StatusNotQueued.
type StatusResult struct {
	Status    string `json:"status"`
	QueueKey  string `json:"queueKey,omitempty"`
	Position  *int   `json:"position,omitempty"`
	SessionID string `json:"sessionId,omitempty"`
}

// MatchEvent is the data of EventMatch. It never names the partner.
type MatchEvent struct {
	SessionID string    `json:"sessionId"`
	QueueKey  string    `json:"queueKey"`
	MatchedAt time.Time `json:"matchedAt"`
}

// Reasons of a Notice.
const ReasonDisconnected = "DISCONNECTED"

// Notice tells a user why they are no longer queued: the data of
// EventLeft, delivered to their next /queue socket.
type Notice struct {
	Reason   string `json:"reason"`
	Refunded bool   `json:"refunded"`
}

// Scheduler schedules and cancels durable jobs; *rendezvous.Scheduler
// implements it.
type Scheduler = rv.JobScheduler

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// Store keeps the queue. Required.
	Store Store
	// Debit takes one token from userID's wallet under key, at most once
	// per key (a second call with the key changes nothing and succeeds).
	// It returns an error of KindPaymentRequired when the balance is too
	// low. Required; billing.Service.Debit, adapted.
	Debit func(ctx context.Context, userID, key string) error
	// Refund gives back the token of the debit with key, at most once. It
	// returns nil when the debit is refunded, now or before, and when no
	// debit has the key. Required; billing.Service.Refund, adapted.
	Refund func(ctx context.Context, key string) error
	// Busy reports the session that keeps userID from queueing (a live
	// session, or one whose choice window is open). Default: nobody is
	// busy.
	Busy func(ctx context.Context, userID string) (sessionID string, busy bool, err error)
	// Gate, when set, refuses a Join whose user the host's policy keeps
	// out (a ban: the moderation feature's USER_BANNED), before anything
	// is reserved or charged; its error is returned unchanged. Default:
	// everyone may join.
	Gate func(ctx context.Context, userID string) error
	// OnPair starts the session of a new pair; it must be idempotent by
	// Pair.SessionID, since a pair whose OnPair failed, or whose instance
	// died, is handed to OnPair again after PairLease. Required.
	OnPair func(ctx context.Context, p Pair) error
	// Notifier publishes EventMatch and EventLeft. Default: dropped.
	Notifier rv.Notifier
	// Scheduler runs the disconnect-grace jobs (GraceJobKind). Default:
	// users stay queued when their sockets go.
	Scheduler Scheduler
	// Clock tells the time. Default rendezvous.SystemClock.
	Clock rv.Clock
	// Logger receives failures that cannot be returned. Default: silent.
	Logger *slog.Logger
	// OnTick, when set, is told after each tick of Run the pairs it made
	// and the users left waiting (Store.Waiting, read for it), for
	// metrics. A tick that failed is not reported. Default none.
	OnTick func(pairs, waiting int)

	// TickInterval is the time between two pairing ticks of Run, 50 ms to
	// 60 s. Default 500 ms.
	TickInterval time.Duration
	// DisconnectGrace is how long a queued user may have no /queue socket
	// before being taken out with a refund. Default 10 s.
	DisconnectGrace time.Duration
	// PresenceTTL is how long a socket counts as present without a
	// refresh (SocketRefresh). Default 30 s; the transport refreshes every
	// PresenceTTL/3.
	PresenceTTL time.Duration
	// JoinTimeout is how long a join may hold a StateJoining entry before
	// the tick's sweep refunds its debit key and discards it. Default 60 s;
	// it must be well above the time one debit can take.
	JoinTimeout time.Duration
	// PairLease is how long a popped pair waits for OnPair to succeed
	// before another tick, on any instance, hands it to OnPair again.
	// Default 10 s.
	PairLease time.Duration
	// PairsPerTick bounds the pairs one store call pops; a tick calls
	// again while calls come back full. Default 1000.
	PairsPerTick int
}
