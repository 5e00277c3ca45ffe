package chat

import rv "github.com/rendezvous-go/rendezvous"

// Errors of package chat, compared with errors.Is.
var (
	// ErrNotAParticipant: the user is not one of the match's two.
	ErrNotAParticipant = rv.ErrNotAParticipant.WithMessage("you are not in this match")
	// ErrMatchNotFound: no such match, or it was removed (unmatched).
	ErrMatchNotFound = rv.ErrMatchNotFound
	// ErrInvalidMessage: text empty after trimming, over MaxTextLen
	// characters, with control characters other than newline and tab, or
	// a clientMessageId that is empty-but-present, too long or not
	// printable ASCII.
	ErrInvalidMessage = rv.E(rv.KindInvalid, "INVALID_MESSAGE", "a message is 1 to 1000 characters without control characters other than newline and tab")
	// ErrInvalidLimit: a page size below 0 or above MaxMatchLimit (Matches)
	// or MaxMessageLimit (Messages).
	ErrInvalidLimit = rv.E(rv.KindInvalid, "INVALID_LIMIT", "the page size is out of range")
	// ErrInvalidCursor: a cursor the server did not make, or both before
	// and after given to Messages.
	ErrInvalidCursor = rv.ErrInvalidCursor
	// ErrRateLimited: the user sends messages faster than the configured
	// rate; the returned error is a *RateLimitError that tells when to
	// retry.
	ErrRateLimited = rv.ErrRateLimited.WithMessage("too many messages; slow down")
)
