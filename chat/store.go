package chat

import (
	"context"
	"time"
)

// MatchCursor is the position after which Store.Matches continues: the
// last entry of the previous page.
type MatchCursor struct {
	LastActivity time.Time
	ID           string
}

// NewMessage asks Store.Send to add a message.
type NewMessage struct {
	ID              string
	MatchID         string
	SenderID        string
	Text            string
	ClientMessageID string
	CreatedAt       time.Time
}

// HistoryQuery selects messages of a match by Seq: with Before > 0 the
// newest Limit messages below it, with After > 0 the oldest Limit above
// it, else the newest Limit. Results are always in ascending Seq.
type HistoryQuery struct {
	Before, After int64
	Limit         int
}

// Store keeps matches (made by the optin feature's store, in the same
// database) and their messages. Every method is atomic across processes.
//
// Implementations: store/memory and store/postgres. store/storetest
// (RunChat) checks both.
type Store interface {
	// Matches returns up to limit live matches of userID, by descending
	// LastActivity then descending ID, after the cursor when not nil.
	Matches(ctx context.Context, userID string, after *MatchCursor, limit int) ([]Match, error)
	// Match returns a live match, or ErrMatchNotFound (also for a removed
	// one).
	Match(ctx context.Context, id string) (Match, error)
	// Send adds m to its match with the next Seq and moves the match's
	// LastActivity, unless m.ClientMessageID is not empty and the sender
	// already sent a message with it in this match: then that message is
	// returned with false and nothing changes. ErrMatchNotFound for a
	// match that is not live; ErrNotAParticipant for a sender who is not
	// one of its users.
	Send(ctx context.Context, m NewMessage) (Message, bool, error)
	// Messages returns the messages of a live match selected by q;
	// ErrMatchNotFound otherwise.
	Messages(ctx context.Context, matchID string, q HistoryQuery) ([]Message, error)
	// Unmatch removes the live match id for both its users (its messages
	// become unreadable) and returns it with true; ErrMatchNotFound when
	// it is not live, ErrNotAParticipant when userID is not in it. A new
	// mutual outcome between the same two users afterwards makes a new
	// match.
	Unmatch(ctx context.Context, id, userID string, at time.Time) (Match, error)
}
