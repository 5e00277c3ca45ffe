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
)
