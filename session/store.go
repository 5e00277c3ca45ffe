package session

import (
	"context"
	"time"
)

// Store keeps sessions. Every method is atomic across processes.
//
// Implementations: store/memory and store/postgres. store/storetest
// (RunSessions) checks both.
type Store interface {
	// Create inserts s unless a session with s.ID exists: then that one is
	// returned with false and nothing changes.
	Create(ctx context.Context, s Session) (Session, bool, error)
	// Get returns the session, or ErrSessionNotFound.
	Get(ctx context.Context, id string) (Session, error)
	// End sets EndedAt and EndReason of a live session and returns it with
	// true; an ended session is returned unchanged with false; an unknown
	// one is ErrSessionNotFound. Of concurrent Ends exactly one ends it.
	End(ctx context.Context, id string, reason EndReason, at time.Time) (Session, bool, error)
	// Live returns userID's live session (the newest, should there be
	// several), or false.
	Live(ctx context.Context, userID string) (Session, bool, error)
}
