package optin

import (
	"context"
	"time"
)

// ChoiceRequest asks Store.Choose to record a choice.
type ChoiceRequest struct {
	SessionID string
	UserID    string
	Choice    Choice
	Now       time.Time
	// MatchID is the id the Match gets if this choice makes one.
	MatchID string
}

// Store keeps choice windows and matches. Every method is atomic across
// processes: a window is resolved exactly once, and a mutual outcome and
// its Match row are written together (never a Match without its outcome,
// never two Matches for one pair of users).
//
// Implementations: store/memory and store/postgres. store/storetest
// (RunOptin) checks both.
type Store interface {
	// Open creates the window of w.SessionID (w's Users and Deadline, no
	// choices) unless it exists: then that one is returned with false.
	Open(ctx context.Context, w Window) (Window, bool, error)
	// Get returns the window, or ErrWindowNotFound.
	Get(ctx context.Context, sessionID string) (Window, error)
	// Choose records r.Choice for r.UserID and returns the window, with
	// true when this call resolved it:
	//   - no window: ErrWindowNotFound; r.UserID not in it:
	//     ErrNotAParticipant;
	//   - resolved, or the user already made this choice: unchanged;
	//   - the user made the other choice: ErrChoiceAlreadyMade;
	//   - r.Now at or after the deadline: resolved as the auto-pass would
	//     (the choice is not recorded);
	//   - else recorded; when both have chosen it is resolved: both MATCH
	//     is Mutual with the pair's Match (made with r.MatchID, or the
	//     existing one of the same two users), else NonMutual.
	Choose(ctx context.Context, r ChoiceRequest) (Window, bool, error)
	// Expire resolves the window of sessionID, missing choices as PASS,
	// and returns it with true, unless it is already resolved (then it is
	// returned with false). ErrWindowNotFound when there is none.
	Expire(ctx context.Context, sessionID string, now time.Time) (Window, bool, error)
	// OpenFor returns a window of userID that is unresolved with a
	// deadline after now, or false.
	OpenFor(ctx context.Context, userID string, now time.Time) (Window, bool, error)
	// Match returns the match, or ErrMatchNotFound.
	Match(ctx context.Context, id string) (Match, error)
}
