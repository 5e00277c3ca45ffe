package optin

import rv "github.com/rendezvous-go/rendezvous"

// Errors of package optin, compared with errors.Is.
var (
	// ErrNotAParticipant: the user is not one of the session's two.
	ErrNotAParticipant = rv.ErrNotAParticipant.WithMessage("you are not a participant of this session")
	// ErrSessionNotEnded: the call is still on.
	ErrSessionNotEnded = rv.E(rv.KindConflict, "SESSION_NOT_ENDED", "the session has not ended yet")
	// ErrNoChoice: the session ended without a choice (credentials could
	// not be issued, or moderation ended it).
	ErrNoChoice = rv.E(rv.KindConflict, "CHOICE_UNAVAILABLE", "this session ended without a choice")
	// ErrInvalidChoice: a choice other than MATCH or PASS.
	ErrInvalidChoice = rv.E(rv.KindInvalid, "INVALID_CHOICE", `choice must be "MATCH" or "PASS"`)
	// ErrChoiceAlreadyMade: the user already made the other choice.
	ErrChoiceAlreadyMade = rv.E(rv.KindConflict, "CHOICE_ALREADY_MADE", "you already made a different choice")
	// ErrWindowNotFound is returned by Store methods for a session without
	// a window.
	ErrWindowNotFound = rv.E(rv.KindNotFound, "CHOICE_WINDOW_NOT_FOUND", "no choice window for this session")
	// ErrMatchNotFound: no such match.
	ErrMatchNotFound = rv.ErrMatchNotFound
)
