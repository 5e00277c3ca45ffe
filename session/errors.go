package session

import rv "github.com/rendezvous-go/rendezvous"

// Errors of package session, compared with errors.Is.
var (
	// ErrSessionNotFound: no such session, or the caller is not one of its
	// participants (GET /sessions/{id} does not tell the two apart).
	ErrSessionNotFound = rv.E(rv.KindNotFound, "SESSION_NOT_FOUND", "session not found")
	// ErrInvalidStart: a StartRequest without an id, two users, two
	// distinct users or debit keys.
	ErrInvalidStart = rv.E(rv.KindInvalid, "INVALID_SESSION_START", "invalid session start request")
	// ErrTokenIssuer: the VideoTokenIssuer failed; the session ends with
	// ReasonTokenError.
	ErrTokenIssuer = rv.E(rv.KindUnavailable, "VIDEO_TOKEN_ERROR", "video credentials could not be issued")
)
