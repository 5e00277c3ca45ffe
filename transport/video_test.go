package transport_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

// fakeSessions is a SessionService: session "s1" belongs to alice and
// bob; bob is in it live, and so Current answers for him; Current fails
// for "broken".
type fakeSessions struct {
	recorder
	ended   bool
	current []string // users asked about, in order
	ends    []string // "user/id" of the End calls
}

func newFakeSessions() *fakeSessions { return &fakeSessions{} }

var sessionT0 = time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)

func startOf(userID string) session.StartEvent {
	uid := uint32(7)
	if userID == "bob" {
		uid = 8
	}
	return session.StartEvent{
		SessionID: "s1", ChannelName: session.ChannelName("s1"),
		StartAt: sessionT0, EndAt: sessionT0.Add(45 * time.Second), DurationSeconds: 45, ExpiresAt: sessionT0.Add(2 * time.Minute),
		RTC: &session.RTCCredentials{AppID: "app", Token: "rtc-" + userID, UID: uid},
		RTM: &session.RTMCredentials{Token: "rtm-" + userID, UserID: "p-" + userID},
	}
}

func (f *fakeSessions) view(userID, id string) (session.View, error) {
	if id != "s1" || (userID != "alice" && userID != "bob") {
		return session.View{}, session.ErrSessionNotFound
	}
	v := session.View{StartEvent: startOf(userID), Status: "live"}
	if f.ended {
		at := sessionT0.Add(20 * time.Second)
		v.Status, v.EndedAt, v.EndReason = "ended", &at, session.ReasonEnded
	}
	return v, nil
}

func (f *fakeSessions) Get(_ context.Context, userID, id string) (v session.View, err error) {
	f.read(func() { v, err = f.view(userID, id) })
	return v, err
}

func (f *fakeSessions) End(_ context.Context, userID, id string) (v session.View, err error) {
	f.do(func() {
		f.ends = append(f.ends, userID+"/"+id)
		if id == "s1" && userID == "mallory" {
			err = optin.ErrNotAParticipant // a service may tell an outsider so
			return
		}
		if _, err = f.view(userID, id); err == nil {
			f.ended = true
			v, err = f.view(userID, id)
		}
	})
	return v, err
}

func (f *fakeSessions) Current(ctx context.Context, userID string) (ev session.StartEvent, live bool, err error) {
	f.do(func() {
		f.current = append(f.current, userID)
		switch {
		case !liveContext(ctx):
			err = rv.ErrCanceled
		case userID == "broken":
			err = rv.ErrStoreUnavailable.WithMessage("session store down")
		case userID == "bob" && !f.ended:
			ev, live = startOf(userID), true
		}
	})
	return ev, live, err
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestSessionREST(t *testing.T) {
	d := newDatingStack(t)
	url := d.URL + "/sessions"
	alice := bearerH("tok-alice")

	want := mustJSON(t, session.View{StartEvent: startOf("alice"), Status: "live"})
	r := do(t, "GET", url+"/s1", "", alice...)
	if r.Status != 200 || string(r.Body) != want {
		t.Fatalf("get: %d %s, want %s", r.Status, r.Body, want)
	}
	if !json.Valid(r.Body) || !strings.Contains(string(r.Body), `"channelName":"session_s1"`) || !strings.Contains(string(r.Body), `"rtc":{"appId":"app","token":"rtc-alice","uid":7}`) {
		t.Fatalf("get body %s", r.Body)
	}
	if r := do(t, "HEAD", url+"/s1", "", alice...); r.Status != 200 {
		t.Fatalf("head: %d", r.Status)
	}
	wantError(t, do(t, "GET", url+"/s2", "", alice...), 404, "SESSION_NOT_FOUND")
	wantError(t, do(t, "GET", url+"/s1", "", bearerH("tok-carol")...), 404, "SESSION_NOT_FOUND")

	// Ending: no body, or {}; anything else is refused before the service.
	for _, tc := range []struct{ body, ct, code string }{
		{`{"reason":"bored"}`, "", "INVALID_BODY"},
		{`[]`, "", "INVALID_BODY"},
		{`"end"`, "", "INVALID_BODY"},
		{`{}{}`, "", "INVALID_BODY"},
		{`{`, "", "INVALID_BODY"},
		{`{}`, "text/plain", "INVALID_BODY"},
	} {
		h := alice
		if tc.ct != "" {
			h = append(append([]string{}, alice...), "Content-Type", tc.ct)
		}
		r := do(t, "POST", url+"/s1/end", tc.body, h...)
		if r.Status != 400 || r.errorBody(t).Code != tc.code {
			t.Errorf("end with %s: %d %s", tc.body, r.Status, r.Body)
		}
	}
	d.Sessions.read(func() {
		if len(d.Sessions.ends) != 0 {
			t.Fatalf("bad bodies reached the service: %v", d.Sessions.ends)
		}
	})
	at := sessionT0.Add(20 * time.Second)
	wantEnded := mustJSON(t, session.View{StartEvent: startOf("alice"), Status: "ended", EndedAt: &at, EndReason: session.ReasonEnded})
	for _, body := range []string{"", "{}", " { } "} {
		r := do(t, "POST", url+"/s1/end", body, alice...)
		if r.Status != 200 || string(r.Body) != wantEnded {
			t.Fatalf("end with %q: %d %s, want %s", body, r.Status, r.Body, wantEnded)
		}
	}
	wantError(t, do(t, "POST", url+"/s9/end", "", alice...), 404, "SESSION_NOT_FOUND")
	wantError(t, do(t, "POST", url+"/s1/end", "", bearerH("tok-mallory")...), 403, "NOT_A_PARTICIPANT")
	d.Sessions.read(func() {
		if got := len(d.Sessions.ends); got != 5 || d.Sessions.ends[0] != "alice/s1" {
			t.Fatalf("End calls %v", d.Sessions.ends)
		}
	})

	for _, rt := range [][2]string{{"GET", "/s1"}, {"POST", "/s1/end"}} {
		wantError(t, do(t, rt[0], url+rt[1], ""), 401, "TOKEN_MISSING")
		wantError(t, do(t, rt[0], url+rt[1], "", bearerH("nope")...), 401, "TOKEN_INVALID")
		wantError(t, do(t, rt[0], url+rt[1], "", bearerH("expired")...), 401, "TOKEN_EXPIRED")
	}
}

// The session and optin modules both serve paths under /sessions/{id}:
// each pattern answers, the preflights and the JSON 404 and 405 of the
// other paths and methods still do, in either order of the modules.
func TestSessionAndOptinRoutesCoexist(t *testing.T) {
	for _, order := range []string{"session first", "optin first"} {
		t.Run(order, func(t *testing.T) {
			authn := datingTokens{}
			mods := []transport.Module{
				transport.SessionModule(transport.SessionConfig{Service: newFakeSessions(), Authenticator: authn}),
				transport.OptinModule(transport.OptinConfig{Service: &fakeChoices{}, Authenticator: authn}),
			}
			if order == "optin first" {
				mods[0], mods[1] = mods[1], mods[0]
			}
			tr, err := transport.New(transport.Config{Modules: mods, Broker: memory.NewBroker()})
			if err != nil {
				t.Fatal(err)
			}
			url := serve(t, tr) + "/sessions"
			bob := bearerH("tok-bob")
			if r := do(t, "GET", url+"/s1", "", bob...); r.Status != 200 {
				t.Fatalf("get: %d %s", r.Status, r.Body)
			}
			if r := do(t, "POST", url+"/s1/choice", `{"choice":"PASS"}`, bob...); r.Status != 200 {
				t.Fatalf("choice: %d %s", r.Status, r.Body)
			}
			if r := do(t, "POST", url+"/s1/end", "", bob...); r.Status != 200 {
				t.Fatalf("end: %d %s", r.Status, r.Body)
			}
			for _, tc := range []struct {
				method, path string
				status       int
				code, allow  string
			}{
				{"GET", "/s1/choice", 405, "METHOD_NOT_ALLOWED", "OPTIONS, POST"},
				{"DELETE", "/s1/choice", 405, "METHOD_NOT_ALLOWED", "OPTIONS, POST"},
				{"GET", "/s1/end", 405, "METHOD_NOT_ALLOWED", "OPTIONS, POST"},
				{"POST", "/s1", 405, "METHOD_NOT_ALLOWED", "GET, HEAD, OPTIONS"},
				{"GET", "/s1/nope", 404, "ROUTE_NOT_FOUND", ""},
				{"POST", "/s1/choice/x", 404, "ROUTE_NOT_FOUND", ""},
				{"GET", "", 404, "ROUTE_NOT_FOUND", ""},
				{"GET", "/", 404, "ROUTE_NOT_FOUND", ""},
			} {
				r := do(t, tc.method, url+tc.path, "", bob...)
				wantError(t, r, tc.status, tc.code)
				if got := r.Header.Get("Allow"); got != tc.allow {
					t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
				}
			}
			for _, p := range []string{"/s1", "/s1/end", "/s1/choice"} {
				if r := do(t, "OPTIONS", url+p, "", "Origin", "https://app.example", "Access-Control-Request-Method", "POST"); r.Status != 204 {
					t.Errorf("preflight of %s: %d", p, r.Status)
				}
			}
		})
	}
}

// A /video socket gets session:start at connect when, and only when, its
// user is in a live session, on that socket only; a failed look-up is
// logged and the socket stays.
func TestVideoStartOnConnect(t *testing.T) {
	d := newDatingStack(t)
	bob1, _ := userSocket(t, d.stack, "/video", "tok-bob")
	raw, err := bob1.WaitEvent("/video", session.EventStart, wait)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustJSON(t, startOf("bob")); string(raw)+"\n" != want {
		t.Fatalf("session:start %s, want %s", raw, want)
	}
	// A reload: the new socket gets its own, the first one nothing more.
	bob2, _ := userSocket(t, d.stack, "/video", "tok-bob")
	if _, err := bob2.WaitEvent("/video", session.EventStart, wait); err != nil {
		t.Fatal(err)
	}
	alice, _ := userSocket(t, d.stack, "/video", "tok-alice") // not live (in this fake)
	broken, _ := userSocket(t, d.stack, "/video", "tok-broken")
	for name, c := range map[string]*siotest.Client{"bob's first": bob1, "bob's second": bob2, "alice's": alice, "the broken one": broken} {
		settle(t, c, "/video")
		if evs := c.Events("/video"); len(evs) != 0 {
			t.Errorf("%s socket got %v, want nothing more", name, evs)
		}
	}
	d.Logs.waitLine(t, `"level":"WARN"`, `"namespace":"/video"`, `"step":"connect"`, `"code":"STORE_UNAVAILABLE"`, `"user":"broken"`)

	// Once the session is over, a new socket gets nothing.
	if r := do(t, "POST", d.URL+"/sessions/s1/end", "", bearerH("tok-bob")...); r.Status != 200 {
		t.Fatalf("end: %d %s", r.Status, r.Body)
	}
	bob3, _ := userSocket(t, d.stack, "/video", "tok-bob")
	settle(t, bob3, "/video")
	if evs := bob3.Events("/video"); len(evs) != 0 {
		t.Errorf("socket after the end got %v", evs)
	}
	d.Sessions.read(func() {
		if len(d.Sessions.current) != 5 {
			t.Errorf("Current calls %v, want one per socket", d.Sessions.current)
		}
	})
}

// SessionModule and OptinModule check their configuration.
func TestSessionAndOptinModuleConfig(t *testing.T) {
	for name, m := range map[string]transport.Module{
		"session without service":       transport.SessionModule(transport.SessionConfig{Authenticator: datingTokens{}}),
		"session without authenticator": transport.SessionModule(transport.SessionConfig{Service: newFakeSessions()}),
		"optin without service":         transport.OptinModule(transport.OptinConfig{Authenticator: datingTokens{}}),
		"optin without authenticator":   transport.OptinModule(transport.OptinConfig{Service: &fakeChoices{}}),
	} {
		if _, err := transport.New(transport.Config{Modules: []transport.Module{m}, Broker: memory.NewBroker()}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
