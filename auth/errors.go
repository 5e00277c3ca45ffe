package auth

import rv "github.com/rendezvous-go/rendezvous"

// Errors returned by token verification. They are *rendezvous.Error values
// of KindUnauthenticated, compared with errors.Is.
var (
	ErrTokenMissing = rv.E(rv.KindUnauthenticated, "TOKEN_MISSING", "a bearer token is required")
	ErrTokenInvalid = rv.E(rv.KindUnauthenticated, "TOKEN_INVALID", "the token is invalid")
	ErrTokenExpired = rv.E(rv.KindUnauthenticated, "TOKEN_EXPIRED", "the token has expired")
)
