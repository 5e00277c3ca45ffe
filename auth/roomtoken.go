package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	rv "github.com/rendezvous-go/rendezvous"
)

// TokenTypeRoom is the "typ" claim of room connection tokens. Verification
// of any other token type (access, refresh) rejects a room token, and
// RoomTokens rejects every other type.
const TokenTypeRoom = "room"

// DefaultIssuer is the "iss" claim when a Config leaves Issuer empty.
const DefaultIssuer = "rendezvous"

// AudienceRooms is the "aud" claim of room connection tokens.
const AudienceRooms = "rendezvous:rooms"

// MinSecretLength is the shortest signing secret RoomTokens accepts.
const MinSecretLength = 16

// RoomTokenConfig configures RoomTokens.
type RoomTokenConfig struct {
	// Secret signs tokens with HMAC-SHA256. Required, at least
	// MinSecretLength bytes.
	Secret []byte
	// TTL is the token lifetime (the "exp" claim). Default 4 hours.
	TTL time.Duration
	// Issuer is the "iss" claim. Default DefaultIssuer.
	Issuer string
	// Clock tells the time. Default rendezvous.SystemClock.
	Clock rv.Clock
}

// RoomClaims are the claims of a room connection token.
type RoomClaims struct {
	RoomCode string `json:"roomCode"`
	UserID   string `json:"userId"`
	Type     string `json:"typ"`
	jwt.RegisteredClaims
}

// RoomTokens issues and verifies room connection tokens: HS256 JWTs that
// carry roomCode and userId. A valid signature proves only who the bearer
// was; whether the bearer may still connect is decided by the room's state
// (package rooms checks membership on every use).
type RoomTokens struct {
	cfg    RoomTokenConfig
	parser *jwt.Parser
	anyAge *jwt.Parser // checks the algorithm and signature only
}

// NewRoomTokens validates cfg and returns a RoomTokens.
func NewRoomTokens(cfg RoomTokenConfig) (*RoomTokens, error) {
	if len(cfg.Secret) < MinSecretLength {
		return nil, fmt.Errorf("auth: room token secret must be at least %d bytes", MinSecretLength)
	}
	if cfg.TTL < 0 {
		return nil, errors.New("auth: room token TTL must not be negative")
	}
	if cfg.TTL == 0 {
		cfg.TTL = 4 * time.Hour
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Clock == nil {
		cfg.Clock = rv.SystemClock
	}
	cfg.Secret = append([]byte(nil), cfg.Secret...)
	t := &RoomTokens{cfg: cfg}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(AudienceRooms),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(cfg.Clock.Now),
	}
	t.parser = jwt.NewParser(opts...)
	t.anyAge = jwt.NewParser(append(opts, jwt.WithoutClaimsValidation())...)
	return t, nil
}

// TTL returns the lifetime of issued tokens.
func (t *RoomTokens) TTL() time.Duration { return t.cfg.TTL }

// IssueRoomToken returns a signed token for userID in the room roomCode.
func (t *RoomTokens) IssueRoomToken(roomCode, userID string) (string, error) {
	now := t.cfg.Clock.Now()
	claims := RoomClaims{
		RoomCode: roomCode,
		UserID:   userID,
		Type:     TokenTypeRoom,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{AudienceRooms},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.cfg.TTL)),
			ID:        randomID(),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.cfg.Secret)
}

// VerifyRoomToken checks the token's algorithm, signature, issuer,
// audience, expiry and type, and returns its room code and user id. It
// returns ErrTokenMissing for an empty token, ErrTokenExpired for an
// expired one and ErrTokenInvalid for anything else that fails.
func (t *RoomTokens) VerifyRoomToken(token string) (roomCode, userID string, err error) {
	c, err := t.verify(t.parser, token)
	return c.RoomCode, c.UserID, err
}

// VerifyRoomTokenIgnoringExpiry checks everything VerifyRoomToken checks
// but expiry. Package rooms uses it to exchange the token of a member who
// is still in the room for a fresh one: the membership, not the token's
// age, is what authorises that.
func (t *RoomTokens) VerifyRoomTokenIgnoringExpiry(token string) (roomCode, userID string, err error) {
	c, err := t.verify(t.anyAge, token)
	if err != nil {
		return "", "", err
	}
	// The lenient parser skipped the registered claims; check all but expiry.
	if c.Issuer != t.cfg.Issuer || !slices.Contains(c.Audience, AudienceRooms) || c.ExpiresAt == nil {
		return "", "", ErrTokenInvalid
	}
	return c.RoomCode, c.UserID, nil
}

// verify parses token with p and checks the claims every room token has.
func (t *RoomTokens) verify(p *jwt.Parser, token string) (RoomClaims, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return RoomClaims{}, ErrTokenMissing
	}
	var c RoomClaims
	_, err := p.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.cfg.Secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return RoomClaims{}, ErrTokenExpired
	case err != nil:
		return RoomClaims{}, ErrTokenInvalid.Wrap(err)
	case c.Type != TokenTypeRoom || c.RoomCode == "" || c.UserID == "" || c.Subject != c.UserID:
		return RoomClaims{}, ErrTokenInvalid
	}
	return c, nil
}

func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
