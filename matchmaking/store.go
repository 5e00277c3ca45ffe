package matchmaking

import (
	"context"
	"time"
)

// Store keeps the queue: one Entry per user, a FIFO per queue key, the
// pairs being started, and the /queue sockets present per user. Every
// method is atomic across processes (store/redis uses Lua scripts), and no
// state has a TTL: nothing is dropped without a refund.
//
// Implementations: store/memory and store/redis. store/storetest
// (RunQueue) checks both.
type Store interface {
	// Reserve creates e (with State StateJoining, not yet in any queue)
	// unless e.UserID has an entry: then that entry is returned with
	// false and nothing changes.
	Reserve(ctx context.Context, e Entry) (Entry, bool, error)
	// Activate moves userID's StateJoining entry whose DebitKey is
	// debitKey to StateWaiting, at the back of its queue, and returns it
	// with its position (users ahead of it). It returns ErrEntryGone when
	// userID has no joining entry with that key.
	Activate(ctx context.Context, userID, debitKey string) (Entry, int, error)
	// Discard deletes userID's StateJoining entry whose DebitKey is
	// debitKey and reports whether there was one.
	Discard(ctx context.Context, userID, debitKey string) (bool, error)
	// Get returns userID's entry with its position (0 unless waiting), or
	// false when there is none.
	Get(ctx context.Context, userID string) (Entry, int, bool, error)
	// Remove deletes userID's StateWaiting entry and returns it with true.
	// Any other entry is returned unchanged with false; no entry gives a
	// zero Entry and false.
	Remove(ctx context.Context, userID string) (Entry, bool, error)
	// StaleJoins returns up to limit StateJoining entries reserved before
	// before, oldest first.
	StaleJoins(ctx context.Context, before time.Time, limit int) ([]Entry, error)

	// PopPairs takes up to len(sessionIDs) pairs, FIFO, from the queues
	// with two or more waiting users, giving the i-th pair sessionIDs[i]:
	// its members' entries become StateMatched with that SessionID, and
	// the pair is held as pending until AckPair, leased until now+lease.
	// A lone waiter stays. Its cost is in the pairs made, not in the
	// waiting users or queue keys.
	PopPairs(ctx context.Context, sessionIDs []string, now time.Time, lease time.Duration) ([]Pair, error)
	// ClaimStalePairs re-leases, until now+lease, up to limit pending
	// pairs whose lease ended, and returns them.
	ClaimStalePairs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Pair, error)
	// AckPair deletes the pending pair sessionID and its members'
	// StateMatched entries (still carrying that SessionID). Acking an
	// unknown pair does nothing.
	AckPair(ctx context.Context, sessionID string) error
	// Waiting returns the number of StateWaiting entries.
	Waiting(ctx context.Context) (int, error)

	// TouchSocket marks socketID of userID present until expires.
	TouchSocket(ctx context.Context, userID, socketID string, expires time.Time) error
	// DropSocket removes socketID of userID and returns how many of the
	// user's sockets are still present at now.
	DropSocket(ctx context.Context, userID, socketID string, now time.Time) (int, error)
	// LiveSockets returns how many of userID's sockets are present at now.
	LiveSockets(ctx context.Context, userID string, now time.Time) (int, error)

	// PutNotice keeps n for userID's next socket, replacing any other.
	PutNotice(ctx context.Context, userID string, n Notice) error
	// TakeNotice returns and deletes userID's notice, or false.
	TakeNotice(ctx context.Context, userID string) (Notice, bool, error)
}
