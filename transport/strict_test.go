package transport_test

import (
	"strings"
	"testing"

	"github.com/rendezvous-go/rendezvous/rooms"
)

// JSON keys must be the field's exact name, once, and the body valid
// UTF-8: what encoding/json alone would accept (case-insensitive keys, the
// last of duplicate keys, U+FFFD for broken bytes) is refused.
func TestStrictJSONBodies(t *testing.T) {
	s := newStack(t, options{})
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"key in another case", "/rooms", `{"DISPLAYNAME":"x"}`, `"DISPLAYNAME"`},
		{"key in mixed case", "/rooms", `{"displayname":"x"}`, `"displayName"`},
		{"duplicate key", "/rooms", `{"displayName":"a","displayName":"b"}`, `duplicate key "displayName"`},
		{"duplicate nested key", "/rooms", `{"displayName":"a","maxUsers":{"n":1,"n":2}}`, `duplicate key "n"`},
		{"invalid UTF-8 in a value", "/rooms", "{\"displayName\":\"a\xffb\"}", "UTF-8"},
		{"invalid UTF-8 in a key", "/rooms", "{\"display\xc3Name\":\"a\"}", "UTF-8"},
		{"lone surrogate escape", "/rooms", `{"displayName":"a\ud800b"}`, "surrogate"},
		{"join: key in another case", "/rooms/ABCD/join", `{"DisplayName":"x"}`, `"DisplayName"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", s.URL+tc.path, tc.body)
			wantError(t, r, 400, "INVALID_BODY")
			if msg := r.errorBody(t).Message; !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not name %s", msg, tc.want)
			}
		})
	}
	// A valid surrogate pair and exact keys pass.
	s.create(t, "\U0001F600 A")
	if r := do(t, "POST", s.URL+"/rooms", `{"displayName":"\ud83d\ude00 B","maxUsers":3}`); r.Status != 201 {
		t.Fatalf("escaped emoji: %d %s", r.Status, r.Body)
	}

	// Authenticated bodies and socket event payloads follow the same rules.
	a := s.signup(t)
	wantError(t, do(t, "PATCH", s.URL+"/users/me", `{"Bio":"x"}`, bearerH(a.Access)...), 400, "INVALID_BODY")
	wantError(t, do(t, "PATCH", s.URL+"/users/me", `{"bio":"x","bio":"y"}`, bearerH(a.Access)...), 400, "INVALID_BODY")
	host := s.create(t, "Host")
	hc, _ := member(t, s, host)
	if m := ack(t, hc, rooms.EventKick, map[string]string{"KickUserId": "x"}); ackCode(m) != "INVALID_PAYLOAD" {
		t.Fatalf("kick with a key in another case: %v", m)
	}
}

// Error messages quote at most a short prefix of what the client sent.
func TestErrorsDoNotEchoInput(t *testing.T) {
	s := newStack(t, options{})
	long := strings.Repeat("k", 10_000)
	echoes := func(msg string) bool { return strings.Contains(msg, strings.Repeat("k", 65)) }

	r := do(t, "POST", s.URL+"/rooms", `{"`+long+`":1}`)
	wantError(t, r, 400, "INVALID_BODY")
	if msg := r.errorBody(t).Message; echoes(msg) || !strings.Contains(msg, "kkkk") {
		t.Fatalf("unknown field message of %d bytes: %.200s", len(msg), msg)
	}
	for _, ns := range []string{rooms.Namespace, "/echo"} {
		if ns != rooms.Namespace {
			s.T.UserNamespace(ns, s.Accounts, nil)
		}
		c := dial(t, s)
		p, err := c.Connect(ns, map[string]string{"token": long}, wait)
		if err != nil || p.Type != 4 {
			t.Fatalf("%s: %v %s", ns, err, p.Data)
		}
		if echoes(string(p.Data)) || len(p.Data) > 200 {
			t.Fatalf("%s: CONNECT_ERROR of %d bytes: %.200s", ns, len(p.Data), p.Data)
		}
	}
	host := s.create(t, "Host")
	hc, _ := member(t, s, host)
	m := ack(t, hc, rooms.EventKick, map[string]int{long: 1})
	e, _ := m["error"].(map[string]any)
	if msg, _ := e["message"].(string); ackCode(m) != "INVALID_PAYLOAD" || echoes(msg) {
		t.Fatalf("kick with a long key: %v", m)
	}
}
