package transport_test

import (
	"context"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/session"
)

// fakeChoices is a ChoiceService over session "s1" of alice and bob,
// ended: alice's MATCH waits for bob's, bob's MATCH makes a mutual match
// and PASS a non-mutual outcome; "live" has not ended, "failed" ended
// without a call.
type fakeChoices struct {
	recorder
	calls []string // "user/session/choice"
}

var choiceDeadline = time.Date(2026, 12, 1, 20, 1, 0, 0, time.UTC)

func (f *fakeChoices) Choose(_ context.Context, userID, sessionID, choice string) (res optin.Result, err error) {
	f.do(func() {
		f.calls = append(f.calls, userID+"/"+sessionID+"/"+choice)
		switch {
		case sessionID == "live":
			err = optin.ErrSessionNotEnded
		case sessionID == "failed":
			err = optin.ErrNoChoice
		case sessionID != "s1":
			err = session.ErrSessionNotFound
		case userID != "alice" && userID != "bob":
			err = optin.ErrNotAParticipant
		case choice != string(optin.ChoiceMatch) && choice != string(optin.ChoicePass):
			err = optin.ErrInvalidChoice
		case userID == "alice":
			res = optin.Result{Status: optin.StatusPending, Deadline: &choiceDeadline}
		case choice == string(optin.ChoiceMatch):
			res = optin.Result{Status: optin.StatusResolved, Outcome: optin.Mutual, MatchID: "m1"}
		default:
			res = optin.Result{Status: optin.StatusResolved, Outcome: optin.NonMutual}
		}
	})
	return res, err
}

func TestOptinREST(t *testing.T) {
	d := newDatingStack(t)
	url := d.URL + "/sessions"
	alice, bob := bearerH("tok-alice"), bearerH("tok-bob")

	for _, tc := range []struct {
		who  []string
		body string
		want string
	}{
		{alice, `{"choice":"MATCH"}`, `{"status":"pending","deadline":"2026-12-01T20:01:00Z"}`},
		{bob, `{"choice":"MATCH"}`, `{"status":"resolved","outcome":"mutual","matchId":"m1"}`},
		{bob, `{"choice":"PASS"}`, `{"status":"resolved","outcome":"non_mutual"}`},
	} {
		r := do(t, "POST", url+"/s1/choice", tc.body, tc.who...)
		if r.Status != 200 || string(r.Body) != tc.want+"\n" {
			t.Fatalf("choice %s: %d %s, want %s", tc.body, r.Status, r.Body, tc.want)
		}
	}
	d.Choices.read(func() {
		if len(d.Choices.calls) != 3 || d.Choices.calls[0] != "alice/s1/MATCH" || d.Choices.calls[2] != "bob/s1/PASS" {
			t.Fatalf("Choose calls %v", d.Choices.calls)
		}
		d.Choices.calls = nil
	})

	// Bad bodies never reach the service.
	for _, tc := range []struct{ body, code string }{
		{"", "INVALID_CHOICE"},
		{`{}`, "INVALID_CHOICE"},
		{`{"choice":null}`, "INVALID_CHOICE"},
		{`{"choice":1}`, "INVALID_CHOICE"},
		{`{"choice":true}`, "INVALID_CHOICE"},
		{`{"choice":["MATCH"]}`, "INVALID_CHOICE"},
		{`{"choice":{"value":"MATCH"}}`, "INVALID_CHOICE"},
		{`{"choice":"MATCH","why":"cute"}`, "INVALID_BODY"},
		{`{"Choice":"MATCH"}`, "INVALID_BODY"},
		{`{"choice":"MATCH","choice":"PASS"}`, "INVALID_BODY"},
		{`{"choice":"MA`, "INVALID_BODY"},
		{`"MATCH"`, "INVALID_BODY"},
	} {
		r := do(t, "POST", url+"/s1/choice", tc.body, alice...)
		if r.Status != 400 || r.errorBody(t).Code != tc.code {
			t.Errorf("choice %s: %d %s, want 400 %s", tc.body, r.Status, r.Body, tc.code)
		}
	}
	d.Choices.read(func() {
		if len(d.Choices.calls) != 0 {
			t.Fatalf("bad bodies reached the service: %v", d.Choices.calls)
		}
	})

	// The service's errors keep their status and code.
	for _, tc := range []struct {
		user, session, body string
		status              int
		code                string
	}{
		{"alice", "s1", `{"choice":"maybe"}`, 400, "INVALID_CHOICE"},
		{"alice", "s1", `{"choice":"match"}`, 400, "INVALID_CHOICE"},
		{"mallory", "s1", `{"choice":"MATCH"}`, 403, "NOT_A_PARTICIPANT"},
		{"alice", "s2", `{"choice":"MATCH"}`, 404, "SESSION_NOT_FOUND"},
		{"alice", "live", `{"choice":"PASS"}`, 409, "SESSION_NOT_ENDED"},
		{"alice", "failed", `{"choice":"PASS"}`, 409, "CHOICE_UNAVAILABLE"},
	} {
		wantError(t, do(t, "POST", url+"/"+tc.session+"/choice", tc.body, bearerH("tok-"+tc.user)...), tc.status, tc.code)
	}

	wantError(t, do(t, "POST", url+"/s1/choice", `{"choice":"MATCH"}`), 401, "TOKEN_MISSING")
	wantError(t, do(t, "POST", url+"/s1/choice", `{"choice":"MATCH"}`, bearerH("nope")...), 401, "TOKEN_INVALID")
	wantError(t, do(t, "POST", url+"/s1/choice", `{"choice":"MATCH"}`, bearerH("revoked")...), 401, "TOKEN_REVOKED")
}
