package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func newTokens(t *testing.T, clock *fakeclock.Clock) *auth.RoomTokens {
	t.Helper()
	rt, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: secret, TTL: time.Hour, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestRoomTokenRoundTrip(t *testing.T) {
	clock := fakeclock.New(time.Unix(1_700_000_000, 0))
	rt := newTokens(t, clock)
	tok, err := rt.IssueRoomToken("ABCD", "u1")
	if err != nil {
		t.Fatal(err)
	}
	code, user, err := rt.VerifyRoomToken(tok)
	if err != nil || code != "ABCD" || user != "u1" {
		t.Fatalf("got %q %q %v", code, user, err)
	}
	clock.Advance(time.Hour + time.Second)
	if _, _, err := rt.VerifyRoomToken(tok); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("expired token: got %v", err)
	}
}

func TestRoomTokenRejects(t *testing.T) {
	clock := fakeclock.New(time.Now())
	rt := newTokens(t, clock)
	good, _ := rt.IssueRoomToken("ABCD", "u1")
	parts := strings.Split(good, ".")

	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := func() jwt.MapClaims {
		return jwt.MapClaims{
			"roomCode": "ABCD", "userId": "u1", "sub": "u1", "typ": "room",
			"iss": auth.DefaultIssuer, "aud": auth.AudienceRooms,
			"exp": clock.Now().Add(time.Hour).Unix(),
		}
	}
	with := func(k string, v any) jwt.MapClaims { c := base(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := base(); delete(c, k); return c }
	// Payload of good token re-signed with alg none.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."

	cases := map[string]struct {
		tok  string
		want error
	}{
		"empty":           {"", auth.ErrTokenMissing},
		"garbage":         {"not-a-jwt", auth.ErrTokenInvalid},
		"tampered":        {parts[0] + "." + parts[1] + "x." + parts[2], auth.ErrTokenInvalid},
		"bad signature":   {parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), auth.ErrTokenInvalid},
		"alg none":        {none, auth.ErrTokenInvalid},
		"wrong secret":    {sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret!!"), base()), auth.ErrTokenInvalid},
		"HS512":           {sign(jwt.SigningMethodHS512, secret, base()), auth.ErrTokenInvalid},
		"wrong type":      {sign(jwt.SigningMethodHS256, secret, with("typ", "access")), auth.ErrTokenInvalid},
		"no type":         {sign(jwt.SigningMethodHS256, secret, without("typ")), auth.ErrTokenInvalid},
		"wrong audience":  {sign(jwt.SigningMethodHS256, secret, with("aud", "rendezvous:api")), auth.ErrTokenInvalid},
		"wrong issuer":    {sign(jwt.SigningMethodHS256, secret, with("iss", "someone-else")), auth.ErrTokenInvalid},
		"no expiry":       {sign(jwt.SigningMethodHS256, secret, without("exp")), auth.ErrTokenInvalid},
		"expired":         {sign(jwt.SigningMethodHS256, secret, with("exp", clock.Now().Add(-time.Minute).Unix())), auth.ErrTokenExpired},
		"no room":         {sign(jwt.SigningMethodHS256, secret, without("roomCode")), auth.ErrTokenInvalid},
		"subject differs": {sign(jwt.SigningMethodHS256, secret, with("sub", "u2")), auth.ErrTokenInvalid},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := rt.VerifyRoomToken(tc.tok)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewRoomTokensValidates(t *testing.T) {
	if _, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte("short")}); err == nil {
		t.Fatal("short secret accepted")
	}
	if _, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: secret, TTL: -time.Second}); err == nil {
		t.Fatal("negative TTL accepted")
	}
}

func TestVerifyRoomTokenIgnoringExpiry(t *testing.T) {
	clock := fakeclock.New(time.Now())
	rt := newTokens(t, clock)
	tok, _ := rt.IssueRoomToken("ABCD", "u1")
	clock.Advance(48 * time.Hour)
	if _, _, err := rt.VerifyRoomToken(tok); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("strict: %v", err)
	}
	code, user, err := rt.VerifyRoomTokenIgnoringExpiry(tok)
	if err != nil || code != "ABCD" || user != "u1" {
		t.Fatalf("lenient: %q %q %v", code, user, err)
	}
	other, _ := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte("another-secret-another-secret!!"), Clock: clock})
	forged, _ := other.IssueRoomToken("ABCD", "u1")
	if _, _, err := rt.VerifyRoomTokenIgnoringExpiry(forged); !errors.Is(err, auth.ErrTokenInvalid) {
		t.Fatalf("wrong secret accepted: %v", err)
	}
	wrongIss, _ := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: secret, Issuer: "elsewhere", Clock: clock})
	tok2, _ := wrongIss.IssueRoomToken("ABCD", "u1")
	if _, _, err := rt.VerifyRoomTokenIgnoringExpiry(tok2); !errors.Is(err, auth.ErrTokenInvalid) {
		t.Fatalf("wrong issuer accepted: %v", err)
	}
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + strings.Split(tok, ".")[1] + "."
	if _, _, err := rt.VerifyRoomTokenIgnoringExpiry(none); !errors.Is(err, auth.ErrTokenInvalid) {
		t.Fatalf("alg none accepted: %v", err)
	}
}
