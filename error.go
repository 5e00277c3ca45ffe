package rendezvous

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies an Error by how a caller should react to it. Transports
// map each Kind to one status code (HTTP 404, 400, 409, …).
type Kind uint8

// The kinds of error. The zero Kind is KindInternal, so an Error built
// without a kind is never mistaken for a client mistake.
const (
	KindInternal        Kind = iota // a bug or an unexpected failure; details are logged, not shown
	KindInvalid                     // the request is malformed or breaks a rule (HTTP 400)
	KindUnauthenticated             // missing, bad or expired credentials (HTTP 401)
	KindPaymentRequired             // not enough balance (HTTP 402)
	KindForbidden                   // authenticated but not allowed (HTTP 403)
	KindNotFound                    // the thing does not exist, or no longer (HTTP 404)
	KindConflict                    // the request conflicts with current state (HTTP 409)
	KindRateLimited                 // too many requests (HTTP 429)
	KindUnavailable                 // a dependency is down or not configured (HTTP 503)
)

var kindNames = [...]string{
	KindInternal:        "internal",
	KindInvalid:         "invalid",
	KindUnauthenticated: "unauthenticated",
	KindPaymentRequired: "payment_required",
	KindForbidden:       "forbidden",
	KindNotFound:        "not_found",
	KindConflict:        "conflict",
	KindRateLimited:     "rate_limited",
	KindUnavailable:     "unavailable",
}

// String returns the kind's lower-case name, such as "not_found".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// CodeUnknown is the Code of every error that is not an *Error: clients see
// it with a generic message while the details go to the server log.
const CodeUnknown = "UNKNOWN_ERROR"

// Errors shared by every feature and transport. Each Code is defined once in
// the whole module; features give them their own message with WithMessage
// and still match these sentinels with errors.Is.
var (
	// ErrRateLimited: too many requests, events or codes. Transports add a
	// Retry-After hint where they know one.
	ErrRateLimited = E(KindRateLimited, "RATE_LIMITED", "too many requests; try again later")
	// ErrStoreUnavailable: a store's server (Redis, PostgreSQL) is
	// unreachable, timed out, or its circuit breaker is open. Stores
	// translate driver errors of that sort to it at their edge.
	ErrStoreUnavailable = E(KindUnavailable, "STORE_UNAVAILABLE", "a storage service is unavailable; try again shortly")
	// ErrTimeout: the operation ran out of time (context deadline).
	ErrTimeout = E(KindUnavailable, "TIMEOUT", "the operation timed out")
	// ErrCanceled: the caller canceled the operation.
	ErrCanceled = E(KindUnavailable, "CANCELED", "the operation was canceled")
	// ErrNotAParticipant: the user is not one of the two of a session or
	// a match (the optin and chat features).
	ErrNotAParticipant = E(KindForbidden, "NOT_A_PARTICIPANT", "you are not a participant")
	// ErrInvalidSignature: a webhook's signature is missing, malformed,
	// wrong or too old (Stripe's, 400; the moderation service's, 401 with
	// WithKind).
	ErrInvalidSignature = E(KindInvalid, "INVALID_SIGNATURE", "the webhook signature is invalid")
	// ErrMatchNotFound: no such live match (the optin and chat features).
	ErrMatchNotFound = E(KindNotFound, "MATCH_NOT_FOUND", "match not found")
	// ErrInvalidCursor: a pagination cursor the server did not make (the
	// billing and chat features).
	ErrInvalidCursor = E(KindInvalid, "INVALID_CURSOR", "the cursor is invalid")
)

// Error is the error type of every feature package. Code is a stable,
// upper-snake-case identifier (ROOM_NOT_FOUND) that clients may switch on;
// Message is a human-readable sentence safe to show to the client; Err is an
// optional cause that is never shown to the client.
//
// Two *Error values match with errors.Is when their Codes are equal, so
// feature packages export sentinels (rooms.ErrRoomNotFound) that callers
// compare against, while the returned error may carry a more specific
// message.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Err     error
	// Details are extra fields a client may read beside the code (such as
	// the "until" of USER_BANNED): transports add them to the error body
	// and to a CONNECT_ERROR's data. Keys never override the standard
	// fields.
	Details map[string]any
}

// E returns a new *Error.
func E(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithMessage returns a copy of e with another message, keeping Kind and
// Code, so it still matches e with errors.Is.
func (e *Error) WithMessage(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// WithKind returns a copy of e with another Kind, keeping its Code, for a
// code whose status differs between two uses.
func (e *Error) WithKind(k Kind) *Error {
	c := *e
	c.Kind = k
	return &c
}

// WithDetails returns a copy of e with details (see Error.Details).
func (e *Error) WithDetails(details map[string]any) *Error {
	c := *e
	c.Details = details
	return &c
}

// Wrap returns a copy of e whose cause is err.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

// AsError returns the *Error in err's chain. Context cancellation and
// deadline errors become KindUnavailable errors; any other error becomes a
// KindInternal error with Code CodeUnknown and a generic message, with err
// kept as the cause. AsError(nil) is nil.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ErrTimeout.Wrap(err)
	case errors.Is(err, context.Canceled):
		return ErrCanceled.Wrap(err)
	}
	return &Error{Kind: KindInternal, Code: CodeUnknown, Message: "an unexpected error occurred", Err: err}
}

// KindOf returns the Kind of err (KindInternal for a non-*Error).
func KindOf(err error) Kind { return AsError(err).Kind }

// CodeOf returns the stable Code of err, CodeUnknown for a non-*Error and ""
// for nil.
func CodeOf(err error) string {
	if err == nil {
		return ""
	}
	return AsError(err).Code
}
