package auth

import (
	"context"
	"time"
)

// RefreshToken is the stored record of one refresh token. The token itself
// is never stored: Hash is its SHA-256. Every token belongs to a family,
// the chain of tokens that descend by rotation from one sign-up or login;
// revoking a family revokes all of its tokens.
type RefreshToken struct {
	// Hash is the SHA-256 of the token.
	Hash []byte
	// UserID is the owner of the token's family.
	UserID string
	// FamilyID identifies the family.
	FamilyID  string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Rotation asks a Store to consume one refresh token and issue its
// successor in the same family.
type Rotation struct {
	// Presented is the hash of the presented token.
	Presented []byte
	// Next is the hash of the successor.
	Next []byte
	// Now is the time of the rotation: the presented token's rotation time
	// and the successor's IssuedAt.
	Now time.Time
	// ExpiresAt is the successor's expiry.
	ExpiresAt time.Time
	// Grace is how long after its rotation the presented token may be
	// presented again and still get a successor; 0 turns the grace window
	// off.
	Grace time.Duration
}

// CodePurpose tells what a verification code proves.
type CodePurpose string

// The purposes of verification codes.
const (
	// PurposeVerify codes link an identifier to the signed-in user named
	// by CodeKey.UserID.
	PurposeVerify CodePurpose = "verify"
	// PurposeLogin codes sign in the account that owns an identifier;
	// their CodeKey.UserID is "".
	PurposeLogin CodePurpose = "login"
)

// CodeKey identifies the pending verification code of one purpose, channel
// and identifier (and user, for PurposeVerify). A key holds at most one
// code: the newest.
type CodeKey struct {
	Purpose    CodePurpose
	Channel    Channel
	Identifier string
	// UserID is the user a PurposeVerify code was sent for; "" for
	// PurposeLogin.
	UserID string
}

// VerificationCode is the stored record of a one-time code. The code
// itself is never stored: Hash is its HMAC-SHA256 under a key derived from
// the service secret, bound to Key.
type VerificationCode struct {
	Key       CodeKey
	Hash      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CodeCheck asks a Store to check a presented verification code.
type CodeCheck struct {
	// Key names the pending code.
	Key CodeKey
	// Hash is the hash of the presented code.
	Hash []byte
	// Now is the time of the check.
	Now time.Time
	// Requester identifies who presents the code: the client's address
	// (an IPv6 /64 prefix), at most 64 bytes. "" is one requester like any
	// other.
	Requester string
	// MaxAttempts is the number of wrong attempts one requester may make
	// on one code.
	MaxAttempts int
	// MaxTotalAttempts is the number of wrong attempts all requesters
	// together may make on one code.
	MaxTotalAttempts int
}

// Store keeps users, their verified identities, refresh-token families and
// verification codes: the durable state of package auth. Every method is
// atomic: the checks it documents and the change it makes happen as one
// step, whatever other calls run concurrently on any process.
//
// Users' Interests and PhotoURLs come back non-nil. Times come back in UTC
// with at least millisecond precision (the Service passes times truncated
// to the millisecond).
//
// Implementations: store/memory (process memory) and store/postgres. The
// conformance suite in store/storetest (RunAuth) runs both through the
// same cases.
type Store interface {
	// CreateUser stores u, which has no Phone or Email, together with
	// first, the first token of a new refresh family of u.
	CreateUser(ctx context.Context, u User, first RefreshToken) error
	// User returns the user with its verified identifiers, or
	// ErrUserNotFound.
	User(ctx context.Context, id string) (User, error)
	// UserByIdentity returns the user whose verified identifier of channel
	// ch is identifier, or ErrUserNotFound.
	UserByIdentity(ctx context.Context, ch Channel, identifier string) (User, error)
	// UpdateProfile sets the non-nil fields of patch (already normalised),
	// sets UpdatedAt to now and returns the user, or ErrUserNotFound.
	UpdateProfile(ctx context.Context, id string, patch ProfilePatch, now time.Time) (User, error)
	// LinkIdentity makes identifier the user's verified identifier of
	// channel ch, replacing any earlier one of that channel, sets
	// UpdatedAt to now and returns the user. It returns ErrIdentityTaken
	// when another user holds the identifier and ErrUserNotFound when the
	// user does not exist. Linking an identifier the user already holds
	// succeeds.
	LinkIdentity(ctx context.Context, id string, ch Channel, identifier string, now time.Time) (User, error)
	// DeleteUser deletes the user with its identities, refresh families and
	// tokens, its PurposeVerify codes and the PurposeLogin codes of its
	// identifiers, or returns ErrUserNotFound.
	DeleteUser(ctx context.Context, id string) error

	// CreateRefreshToken starts the family t.FamilyID of user t.UserID with
	// t as its first token. It returns ErrUserNotFound when the user does
	// not exist.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// RotateRefreshToken consumes the token r.Presented and stores r.Next
	// as its successor in the same family, which it returns. The outcome
	// depends on the presented token, checked in this order:
	//
	//   - unknown: ErrRefreshInvalid;
	//   - expired (r.Now is not before its ExpiresAt): ErrRefreshExpired;
	//   - already rotated: if r.Grace > 0, the family is not revoked, the
	//     rotation happened at most r.Grace before r.Now and the token's
	//     successor has not been rotated itself, the presented token gets
	//     r.Next as another successor (its rotation time is unchanged);
	//     otherwise this is reuse: the whole family is revoked at r.Now,
	//     durably (the revocation is committed), and the error is
	//     ErrRefreshReused, returned with the presented token's record
	//     (UserID and FamilyID name the revoked family);
	//   - its family is revoked: ErrTokenRevoked;
	//   - else the token is marked rotated at r.Now and r.Next is stored.
	//
	// Of concurrent rotations of one token exactly one is the plain
	// rotation; the others see an already-rotated token.
	RotateRefreshToken(ctx context.Context, r Rotation) (RefreshToken, error)
	// RevokeTokenFamily revokes the family of the token whose hash is
	// given. An unknown token or an already revoked family is no error.
	RevokeTokenFamily(ctx context.Context, tokenHash []byte, now time.Time) error
	// RevokeUserFamilies revokes every family of the user. A user without
	// families, or unknown, is no error.
	RevokeUserFamilies(ctx context.Context, userID string, now time.Time) error

	// PutCode stores c as the pending code of c.Key with no failed
	// attempts (from any requester), replacing any earlier code of that
	// key, which can no longer be used.
	PutCode(ctx context.Context, c VerificationCode) error
	// CheckCode checks c.Hash against the pending code of c.Key:
	//
	//   - no pending code: ErrCodeInvalid;
	//   - c.Now is not before its ExpiresAt: ErrCodeExpired;
	//   - c.MaxTotalAttempts wrong attempts already made on the code, or
	//     c.MaxAttempts by c.Requester: ErrCodeExhausted;
	//   - the hash differs (compared in constant time): one more wrong
	//     attempt is counted for c.Requester and for the code,
	//     ErrCodeInvalid;
	//   - the hash matches: the code is deleted (single use), nil.
	//
	// Of concurrent checks of the right code exactly one succeeds, and
	// concurrent wrong attempts never count past either limit.
	CheckCode(ctx context.Context, c CodeCheck) error

	// DeleteExpired deletes the refresh tokens and verification codes whose
	// ExpiresAt is not after now, and the families left with no token.
	// Presenting a deleted token or code then yields ErrRefreshInvalid or
	// ErrCodeInvalid instead of the expired errors.
	DeleteExpired(ctx context.Context, now time.Time) error
}

// CutoffStore keeps, per user, the time before which access tokens are no
// longer accepted: the time of the user's last LogoutAll or DeleteAccount.
// store/redis keeps cut-offs in Redis, shared by every instance;
// store/memory in process memory.
type CutoffStore interface {
	// SetCutoff records t as the user's cut-off for ttl (the access-token
	// lifetime: no token issued before t outlives it). An earlier cut-off
	// than the one stored does not replace it.
	SetCutoff(ctx context.Context, userID string, t time.Time, ttl time.Duration) error
	// Cutoff returns the user's cut-off, with millisecond precision, or the
	// zero time when there is none.
	Cutoff(ctx context.Context, userID string) (time.Time, error)
}

// Limiter is a fixed-window rate limiter. store/memory.RateLimiter and
// store/redis.RateLimiter implement it.
type Limiter interface {
	// Allow counts one hit for key and reports whether it is within limit
	// hits per window; when it is not, retryAfter is the time left until
	// the window ends.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}
