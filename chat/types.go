package chat

import (
	"context"
	"log/slog"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// Namespace is the Socket.IO namespace of chat events.
const Namespace = "/chat"

// Names of the events sent on Namespace to rendezvous.UserTarget(userID).
const (
	// EventMessage carries a new Message to both participants' sockets,
	// the sender's included.
	EventMessage = "message:new"
	// EventMatchRemoved carries MatchRemovedEvent to the partner of a user
	// who unmatched (and to the user's other sockets).
	EventMatchRemoved = "match:removed"
)

// Limits of the chat API.
const (
	MaxTextLen            = 1000 // characters (code points) of a message, after trimming
	MaxClientMessageIDLen = 64   // bytes of a clientMessageId
	DefaultMatchLimit     = 20
	MaxMatchLimit         = 100
	DefaultMessageLimit   = 50
	MaxMessageLimit       = 100
)

// Partner is the other user of a match as the matches list shows them:
// only the anonymous profile, never a phone number or an email address.
// A deleted account shows as Deleted with an empty profile.
type Partner struct {
	ID          string   `json:"id"`
	Deleted     bool     `json:"deleted,omitempty"`
	DisplayName string   `json:"displayName"`
	Bio         string   `json:"bio"`
	Age         int      `json:"age,omitempty"`
	Gender      string   `json:"gender,omitempty"`
	Interests   []string `json:"interests"`
	PhotoURLs   []string `json:"photoUrls"`
}

// Message is one chat message. Seq orders the messages of a match (1, 2,
// …, assigned atomically by the store) and is what history cursors carry.
type Message struct {
	ID       string `json:"id"`
	MatchID  string `json:"matchId"`
	SenderID string `json:"senderId"`
	// SenderDeleted is true when the sender's account was deleted.
	SenderDeleted bool      `json:"senderDeleted,omitempty"`
	Text          string    `json:"text"`
	CreatedAt     time.Time `json:"createdAt"`
	// ClientMessageID is the sender's own id of the message, if given.
	ClientMessageID string `json:"clientMessageId,omitempty"`
	Seq             int64  `json:"-"`
}

// Match is a live match between two users, as the Store keeps it.
type Match struct {
	ID        string
	Users     [2]string
	CreatedAt time.Time
	// LastActivity is the time of the last message, or CreatedAt.
	LastActivity time.Time
	// LastMessage is nil until the first message.
	LastMessage *Message
}

// MatchView is one entry of GET /matches.
type MatchView struct {
	ID          string    `json:"id"`
	CreatedAt   time.Time `json:"createdAt"`
	LastMessage *Message  `json:"lastMessage"`
	Partner     Partner   `json:"partner"`
}

// MatchPage is a page of GET /matches, newest activity first.
type MatchPage struct {
	Matches    []MatchView `json:"matches"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

// MessagePage is a page of GET /matches/{id}/messages, in ascending order.
type MessagePage struct {
	Messages   []Message `json:"messages"`
	NextCursor string    `json:"nextCursor,omitempty"`
}

// MatchRemovedEvent is the data of EventMatchRemoved.
type MatchRemovedEvent struct {
	MatchID string `json:"matchId"`
}

// Profiles returns the anonymous profiles of user ids; an id missing from
// the map is a deleted account.
type Profiles func(ctx context.Context, userIDs []string) (map[string]Partner, error)

// Limiter is the shared rate limiter (transport.Limiter's method): at most
// limit calls per window per key.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// Store keeps matches and messages. Required.
	Store Store
	// Profiles reads the partners' profiles. Required; the accounts'.
	Profiles Profiles
	// Notifier publishes EventMessage and EventMatchRemoved. Default:
	// dropped.
	Notifier rv.Notifier
	// Limiter limits each user's sends: MessageBurst per
	// MessageBurst/MessageRate seconds. Default: no limit.
	Limiter Limiter
	// MessageRate is the average messages per second a user may send;
	// MessageBurst how many at once. Defaults 5 and 20.
	MessageRate  float64
	MessageBurst int
	// Clock tells the time. Default rendezvous.SystemClock.
	Clock rv.Clock
	// Logger receives failures that cannot be returned. Default: silent.
	Logger *slog.Logger
}
