package auth

import (
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenTypeAccess is the "typ" claim of access tokens. Authenticate
// rejects every other type (room tokens among them), and RoomTokens
// rejects access tokens.
const TokenTypeAccess = "access"

// AudienceAPI is the "aud" claim of access tokens.
const AudienceAPI = "rendezvous:api"

// Principal is who an access token speaks for.
type Principal struct {
	// UserID is the token's subject.
	UserID string
	// TokenID is the token's unique id (the "jti" claim).
	TokenID string
	// IssuedAt is the token's issue stamp (the "iat_us" claim), to the
	// microsecond: the issuing instance's clock, made strictly increasing
	// (see the package documentation).
	IssuedAt time.Time
}

// accessClaims are the claims of an access token. "iat" has the one-second
// precision of JWT NumericDates; "iat_us" carries the issue stamp in Unix
// microseconds, strictly increasing on each instance, so that a LogoutAll
// cuts off every token issued before it and spares every one issued
// after, even within one tick of the clock.
type accessClaims struct {
	Type       string `json:"typ"`
	IssuedAtUs int64  `json:"iat_us"`
	jwt.RegisteredClaims
}

// issueAccess returns a signed access token for userID issued at now with
// the given stamp (Unix microseconds), and its expiry.
func (s *Service) issueAccess(userID string, now time.Time, stamp int64) (string, time.Time, error) {
	exp := jwt.NewNumericDate(now.Add(s.cfg.AccessTTL))
	claims := accessClaims{
		Type:       TokenTypeAccess,
		IssuedAtUs: stamp,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{AudienceAPI},
			IssuedAt:  jwt.NewNumericDate(time.UnixMicro(stamp)),
			ExpiresAt: exp,
			ID:        randomID(),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.cfg.Secret)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp.Time.UTC(), nil
}

// verifyAccess checks the token's algorithm (HS256 only), signature,
// issuer, audience, expiry and type, and returns its principal. It does
// not consult the cut-off.
func (s *Service) verifyAccess(token string) (Principal, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Principal{}, ErrTokenMissing
	}
	var c accessClaims
	_, err := s.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.cfg.Secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Principal{}, ErrTokenExpired
	case err != nil:
		return Principal{}, ErrTokenInvalid.Wrap(err)
	case c.Type != TokenTypeAccess || c.Subject == "" || c.ID == "" || c.IssuedAtUs <= 0 ||
		c.IssuedAt == nil || c.IssuedAt.Unix() != c.IssuedAtUs/1_000_000:
		return Principal{}, ErrTokenInvalid
	}
	return Principal{UserID: c.Subject, TokenID: c.ID, IssuedAt: time.UnixMicro(c.IssuedAtUs).UTC()}, nil
}

func newAccessParser(issuer string, now func() time.Time) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(AudienceAPI),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(now),
	)
}
