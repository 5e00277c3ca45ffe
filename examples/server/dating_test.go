package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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

// With Agora and Hive configured, each starting call is submitted to Hive
// with the moderation bot's own subscriber identity, and session:start
// carries real AccessToken2 credentials.
func TestCallsAreSubmittedToHive(t *testing.T) {
	got := make(chan map[string]any, 4)
	hiveSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.Header.Get("Authorization") != "Bearer hive-key" || json.NewDecoder(r.Body).Decode(&body) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- body
	}))
	defer hiveSrv.Close()
	base, _ := start(t, withAgora(map[string]string{
		"SIGNUP_BONUS_TOKENS": "1", "QUEUE_TICK_MS": "50",
		"HIVE_STREAM_URL": hiveSrv.URL + "/stream", "HIVE_API_KEY": "hive-key",
	}))
	const wait = 30 * time.Second
	var videos []*siotest.Client
	for range 2 {
		tok := authedSignup(t, base)
		c := siotestDial(t, base)
		if p, err := c.Connect(session.Namespace, map[string]string{"token": tok}, wait); err != nil || p.Type != 0 {
			t.Fatalf("connect /video: %+v %v", p, err)
		}
		videos = append(videos, c)
		if r := authed(t, "POST", base+"/queue/join", tok, `{"region":"hive"}`); r.status != 201 {
			t.Fatalf("join: %d %s", r.status, r.body)
		}
	}
	var starts []session.StartEvent
	for _, c := range videos {
		raw, err := c.WaitEvent(session.Namespace, session.EventStart, wait)
		if err != nil {
			t.Fatal(err)
		}
		var s session.StartEvent
		if err := json.Unmarshal(raw, &s); err != nil || s.RTC == nil || s.RTM == nil || !strings.HasPrefix(s.RTC.Token, "007") {
			t.Fatalf("session:start without Agora credentials: %s", raw)
		}
		starts = append(starts, s)
	}
	var sub map[string]any
	select {
	case sub = <-got:
	case <-time.After(wait):
		t.Fatal("no submission reached Hive")
	}
	if sub["sessionId"] != starts[0].SessionID || sub["channel"] != starts[0].ChannelName || sub["appId"] != starts[0].RTC.AppID ||
		sub["noRecording"] != true || !strings.HasPrefix(fmt.Sprint(sub["token"]), "007") {
		t.Fatalf("submission %v for %+v", sub, starts[0])
	}
	for _, s := range starts {
		if uid, _ := sub["uid"].(float64); uint32(uid) == s.RTC.UID || uid == 0 || sub["token"] == s.RTC.Token {
			t.Fatalf("the bot's identity %v is a participant's %+v", sub, s.RTC)
		}
	}
}
