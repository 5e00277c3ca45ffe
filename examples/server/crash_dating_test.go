package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/session"
)

// TestProcessCrashKeepsSessionTimer kills (SIGKILL) the instance that
// paired two users and started their call, between session:start and
// endAt. The call's end is a durable job: the surviving instance sends
// session:end to both, once, and the auto-pass after it.
func TestProcessCrashKeepsSessionTimer(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	_, prefix := testenv.Redis(t)
	vars := map[string]string{
		"REDIS_URL": testenv.RedisURL(t), "REDIS_PREFIX": prefix,
		"DATABASE_URL":             schemaURL(t),
		"JWT_SECRET":               "crash-secret-crash-secret-crash-secret",
		"SIGNUP_BONUS_TOKENS":      "1",
		"SESSION_DURATION_SECONDS": "8",
		"OPTIN_WINDOW_SECONDS":     "1",
		"QUEUE_TICK_MS":            "50",
	}
	const wait = 30 * time.Second
	// Only instance 1 runs while the pair is made, so it is the one that
	// starts the call.
	p1 := startProcess(t, "dating-crash-1", vars)
	a, b := authedSignup(t, p1.base), authedSignup(t, p1.base)
	for _, tok := range []string{a, b} {
		if r := authed(t, "POST", p1.base+"/queue/join", tok, `{"region":"crash"}`); r.status != 201 {
			t.Fatalf("join: %d %s", r.status, r.body)
		}
	}
	var sessionID string
	deadline := time.Now().Add(wait)
	for sessionID == "" {
		var st struct{ Status, SessionID string }
		r := authed(t, "GET", p1.base+"/queue/status", a, "")
		if json.Unmarshal([]byte(r.body), &st) == nil && st.Status == "matched" {
			sessionID = st.SessionID
		}
		if time.Now().After(deadline) {
			t.Fatalf("not paired within %s: %s", wait, r.body)
		}
		if sessionID == "" {
			time.Sleep(20 * time.Millisecond) // polling a status, not synchronising
		}
	}

	// Both watch the call from instance 2, which learns of it from the
	// shared stores: a /video socket connecting during a call gets
	// session:start again.
	p2 := startProcess(t, "dating-crash-2", vars)
	watch := func(tok string) (*siotest.Client, session.StartEvent) {
		c := siotestDial(t, p2.base)
		if p, err := c.Connect(session.Namespace, map[string]string{"token": tok}, wait); err != nil || p.Type != 0 {
			t.Fatalf("connect /video: %+v %v", p, err)
		}
		raw, err := c.WaitEvent(session.Namespace, session.EventStart, wait)
		if err != nil {
			t.Fatal(err)
		}
		var s session.StartEvent
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		return c, s
	}
	ca, sa := watch(a)
	cb, _ := watch(b)
	if sa.SessionID != sessionID || !time.Now().Before(sa.EndAt) {
		t.Fatalf("session:start %+v, want session %s still live", sa, sessionID)
	}

	if err := p1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p1.exited

	for _, c := range []*siotest.Client{ca, cb} {
		raw, err := c.WaitEvent(session.Namespace, session.EventEnd, wait)
		if err != nil {
			t.Fatalf("no session:end after the crash: %v", err)
		}
		var e session.EndEvent
		if err := json.Unmarshal(raw, &e); err != nil || e.SessionID != sessionID || e.Reason != session.ReasonTimeout || e.EndedAt.Before(sa.EndAt) {
			t.Fatalf("session:end %s (%v), want timeout of %s at or after %s", raw, err, sessionID, sa.EndAt)
		}
		t.Logf("session:end from the surviving instance %s after endAt", e.EndedAt.Sub(sa.EndAt))
		raw, err = c.WaitEvent(optin.Namespace, optin.EventNonMutual, wait)
		if err != nil {
			t.Fatalf("no auto-pass after the crash: %v", err)
		}
		var n optin.NonMutualEvent
		if err := json.Unmarshal(raw, &n); err != nil || n.SessionID != sessionID {
			t.Fatalf("match:non_mutual %s", raw)
		}
		// Events of one target arrive in order: a second session:end
		// would have come before the auto-pass.
		if got := c.Events(session.Namespace); count(got, session.EventEnd) != 0 {
			t.Fatalf("session:end arrived more than once: %v", got)
		}
	}
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// authedSignup signs up an anonymous account on base and returns its
// access token.
func authedSignup(t *testing.T, base string) string {
	t.Helper()
	r := authed(t, "POST", base+"/auth/signup-anonymous", "", "")
	var body struct{ AccessToken string }
	if r.status != 201 || json.Unmarshal([]byte(r.body), &body) != nil || body.AccessToken == "" {
		t.Fatalf("signup: %d %s", r.status, r.body)
	}
	return body.AccessToken
}

// authed is request with an access token.
func authed(t *testing.T, method, url, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := processClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return answer{status: res.StatusCode, body: string(b)}
}
