package auth

import (
	"fmt"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// Errors of accounts, refresh tokens and verification codes. They are
// *rendezvous.Error values compared with errors.Is; the returned error may
// carry a more specific message (ErrInvalidProfile names the field).
var (
	// ErrTokenRevoked is returned for an access token issued before its
	// user's last LogoutAll or DeleteAccount, and for a refresh token whose
	// family was revoked.
	ErrTokenRevoked = rv.E(rv.KindUnauthenticated, "TOKEN_REVOKED", "the token has been revoked")

	// ErrRefreshMissing is returned when no refresh token is presented.
	ErrRefreshMissing = rv.E(rv.KindUnauthenticated, "REFRESH_TOKEN_MISSING", "a refresh token is required")
	// ErrRefreshInvalid is returned for a refresh token that is malformed
	// or unknown.
	ErrRefreshInvalid = rv.E(rv.KindUnauthenticated, "REFRESH_TOKEN_INVALID", "the refresh token is invalid")
	// ErrRefreshExpired is returned for a refresh token past its expiry.
	ErrRefreshExpired = rv.E(rv.KindUnauthenticated, "REFRESH_TOKEN_EXPIRED", "the refresh token has expired")
	// ErrRefreshReused is returned for a refresh token that was already
	// rotated. The token's whole family is revoked, its newest token
	// included, and the revocation stands although the call failed.
	ErrRefreshReused = rv.E(rv.KindUnauthenticated, "REFRESH_TOKEN_REUSED", "the refresh token was already used; every session of its family has been revoked")

	// ErrUserNotFound is returned when the user does not exist, or no
	// longer.
	ErrUserNotFound = rv.E(rv.KindNotFound, "USER_NOT_FOUND", "user not found")
	// ErrIdentityTaken is returned when a phone number or email address is
	// already verified by another account.
	ErrIdentityTaken = rv.E(rv.KindConflict, "IDENTITY_TAKEN", "this identifier is already verified by another account")

	// ErrInvalidChannel is returned for a verification channel other than
	// ChannelPhone and ChannelEmail.
	ErrInvalidChannel = rv.E(rv.KindInvalid, "INVALID_CHANNEL", `the channel must be "phone" or "email"`)
	// ErrInvalidPhone is returned for a phone number that is not in E.164
	// form once spaces, dashes, dots and parentheses are removed.
	ErrInvalidPhone = rv.E(rv.KindInvalid, "INVALID_PHONE", "the phone number is invalid")
	// ErrInvalidEmail is returned for an email address that is not a plain
	// address with a dotted domain, of at most 254 characters.
	ErrInvalidEmail = rv.E(rv.KindInvalid, "INVALID_EMAIL", "the email address is invalid")
	// ErrInvalidProfile is returned for a profile field that breaks its
	// rule; the message names the field.
	ErrInvalidProfile = rv.E(rv.KindInvalid, "INVALID_PROFILE", "the profile is invalid")

	// ErrCodeInvalid is returned for a wrong verification code, and for a
	// code presented when none is pending (so that an unknown identifier
	// cannot be told apart from a wrong code).
	ErrCodeInvalid = rv.E(rv.KindInvalid, "CODE_INVALID", "the verification code is invalid")
	// ErrCodeExpired is returned for the pending code once it has expired.
	ErrCodeExpired = rv.E(rv.KindInvalid, "CODE_EXPIRED", "the verification code has expired; request a new one")
	// ErrCodeExhausted is returned once the requester has made its
	// maximum number of wrong attempts on the pending code
	// (Config.CodeMaxAttempts), or all requesters together theirs
	// (Config.CodeMaxTotalAttempts): even the right code is refused, to
	// that requester or to everyone, until a new one is sent.
	ErrCodeExhausted = rv.E(rv.KindRateLimited, "CODE_ATTEMPTS_EXCEEDED", "too many wrong attempts; request a new code")
	// ErrSendRateLimited is returned when too many codes were requested
	// from an IP address, from it for one identifier, or for an
	// identifier in all. The returned error is a
	// *RateLimitError that tells when to retry.
	ErrSendRateLimited = rv.ErrRateLimited.WithMessage("too many verification codes requested; try again later")
	// ErrVerificationUnavailable is returned when no CodeSender is
	// configured or the sender failed.
	ErrVerificationUnavailable = rv.E(rv.KindUnavailable, "VERIFICATION_UNAVAILABLE", "verification codes cannot be sent at the moment")
)

// RateLimitError is an error that tells when the refused call may be tried
// again. It wraps a *rendezvous.Error (ErrSendRateLimited), so errors.Is,
// rendezvous.AsError and rendezvous.CodeOf see through it. Transports read
// the delay with errors.As:
//
//	var ra interface{ RetryAfter() time.Duration }
//	if errors.As(err, &ra) {
//		w.Header().Set("Retry-After", …ra.RetryAfter() rounded up to seconds…)
//	}
type RateLimitError struct {
	// Err is the error that reaches clients.
	Err *rv.Error
	// After is the time to wait before trying again.
	After time.Duration
}

// Error implements the error interface.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v (retry after %v)", e.Err, e.After)
}

// Unwrap returns the *rendezvous.Error.
func (e *RateLimitError) Unwrap() error { return e.Err }

// RetryAfter returns the time to wait before trying again.
func (e *RateLimitError) RetryAfter() time.Duration { return e.After }
