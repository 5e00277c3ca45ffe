package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/session"
)

// The whole dating loop on the embedded default (memory stores, no Agora):
// two users are paired, the call ends on the server's timer, both choose
// MATCH and both learn of the match.
func TestDatingLoopOnEmbeddedDefault(t *testing.T) {
	base, _ := start(t, map[string]string{
		"SIGNUP_BONUS_TOKENS":      "1",
		"SESSION_DURATION_SECONDS": "1",
		"OPTIN_WINDOW_SECONDS":     "30",
		"QUEUE_TICK_MS":            "50",
	})
	const wait = 30 * time.Second
	type user struct {
		token        string
		queue, video *siotest.Client
	}
	var users [2]user
	for i := range users {
		u := &users[i]
		u.token = authedSignup(t, base)
		for _, c := range []struct {
			ns  string
			dst **siotest.Client
		}{{matchmaking.Namespace, &u.queue}, {session.Namespace, &u.video}} {
			cl := siotestDial(t, base)
			if p, err := cl.Connect(c.ns, map[string]string{"token": u.token}, wait); err != nil || p.Type != 0 {
				t.Fatalf("connect %s: %+v %v", c.ns, p, err)
			}
			*c.dst = cl
		}
	}
	for _, u := range users {
		if r := authed(t, "POST", base+"/queue/join", u.token, `{"region":"embedded"}`); r.status != 201 {
			t.Fatalf("join: %d %s", r.status, r.body)
		}
	}
	var sessionID string
	for _, u := range users {
		raw, err := u.queue.WaitEvent(matchmaking.Namespace, matchmaking.EventMatch, wait)
		if err != nil {
			t.Fatal(err)
		}
		var m matchmaking.MatchEvent
		if err := json.Unmarshal(raw, &m); err != nil || m.SessionID == "" || sessionID != "" && m.SessionID != sessionID {
			t.Fatalf("match %s", raw)
		}
		sessionID = m.SessionID
		raw, err = u.video.WaitEvent(session.Namespace, session.EventStart, wait)
		if err != nil {
			t.Fatal(err)
		}
		var s session.StartEvent
		if err := json.Unmarshal(raw, &s); err != nil || s.SessionID != sessionID || s.RTC != nil || s.RTM != nil || s.DurationSeconds != 1 {
			t.Fatalf("session:start %s", raw)
		}
	}
	for _, u := range users {
		raw, err := u.video.WaitEvent(session.Namespace, session.EventEnd, wait)
		if err != nil {
			t.Fatal(err)
		}
		var e session.EndEvent
		if err := json.Unmarshal(raw, &e); err != nil || e.SessionID != sessionID || e.Reason != session.ReasonTimeout {
			t.Fatalf("session:end %s", raw)
		}
	}
	var matchID string
	for i, u := range users {
		r := authed(t, "POST", base+"/sessions/"+sessionID+"/choice", u.token, `{"choice":"MATCH"}`)
		var res optin.Result
		if r.status != 200 || json.Unmarshal([]byte(r.body), &res) != nil {
			t.Fatalf("choice: %d %s", r.status, r.body)
		}
		want := optin.StatusPending
		if i == 1 {
			want = optin.StatusResolved
			matchID = res.MatchID
		}
		if res.Status != want {
			t.Fatalf("choice %d: %s, want %s", i, r.body, want)
		}
	}
	for _, u := range users {
		raw, err := u.video.WaitEvent(optin.Namespace, optin.EventMutual, wait)
		if err != nil {
			t.Fatal(err)
		}
		var m optin.MutualEvent
		if err := json.Unmarshal(raw, &m); err != nil || m.SessionID != sessionID || m.MatchID != matchID || matchID == "" {
			t.Fatalf("match:mutual %s, want match %s", raw, matchID)
		}
	}
	// The one token each was spent: the next join is 402.
	if r := authed(t, "POST", base+"/queue/join", users[0].token, `{"region":"embedded"}`); r.status != 402 {
		t.Fatalf("join without tokens: %d %s", r.status, r.body)
	}
}
