package transport_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

var banUntil = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// banned is moderation's USER_BANNED as the service returns it.
func banned() error {
	return moderation.ErrUserBanned.WithDetails(map[string]any{"until": banUntil.Format(time.RFC3339)})
}

// An error's Details sit beside the four standard fields of the body,
// never replacing them; without details the body is as it always was.
func TestErrorDetailsInRESTBodies(t *testing.T) {
	s, f := newChatStack(t)
	alice := bearerH("tok-alice")
	for _, tc := range []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"no details", rv.ErrMatchNotFound, 404,
			`{"statusCode":404,"error":"Not Found","message":"match not found","code":"MATCH_NOT_FOUND"}`},
		{"empty details", rv.ErrMatchNotFound.WithDetails(map[string]any{}), 404,
			`{"statusCode":404,"error":"Not Found","message":"match not found","code":"MATCH_NOT_FOUND"}`},
		{"until", banned(), 403,
			`{"statusCode":403,"error":"Forbidden","message":"you are banned for now","code":"USER_BANNED","until":"2026-12-02T10:00:00Z"}`},
		{"standard keys are not overridden, keys in order, unencodable values left out",
			moderation.ErrUserBanned.WithDetails(map[string]any{
				"until": banUntil, "statusCode": 200, "error": "OK", "message": "fine", "code": "OK",
				"attempts": 3, "nested": map[string]bool{"a": true}, "broken": make(chan int), "a\"b": nil,
			}), 403,
			`{"statusCode":403,"error":"Forbidden","message":"you are banned for now","code":"USER_BANNED","a\"b":null,"attempts":3,"nested":{"a":true},"until":"2026-12-02T10:00:00Z"}`},
		{"wrapped", errorsJoin(banned()), 403,
			`{"statusCode":403,"error":"Forbidden","message":"you are banned for now","code":"USER_BANNED","until":"2026-12-02T10:00:00Z"}`},
		{"an internal error's details stay out", (&rv.Error{Code: "OOPS", Message: "oops"}).WithDetails(map[string]any{"secret": "x"}), 500,
			`{"statusCode":500,"error":"Internal Server Error","message":"oops","code":"OOPS"}`},
	} {
		f.set(func() { f.err = tc.err })
		r := do(t, "GET", s.URL+"/matches", "", alice...)
		if r.Status != tc.status || string(r.Body) != tc.body+"\n" {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.Status, r.Body, tc.status, tc.body)
		}
	}
	// Retry-After still comes with details.
	f.set(func() {
		f.err = retryLater{after: time.Second}
	})
	if r := do(t, "GET", s.URL+"/matches", "", alice...); r.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
}

func errorsJoin(err error) error { return errors.Join(errors.New("context"), err) }

// gatedStack is a server with the queue and session modules whose gates
// refuse the users in banned (a user id → the gate's error).
type gatedStack struct {
	*stack
	Queue    *fakeQueue
	Sessions *fakeSessions
	gates    recorder
	banned   map[string]error
	asked    []string // the users the gates were asked about
	live     bool     // every gate call had a live context
}

func newGatedStack(t *testing.T, maxSockets int) *gatedStack {
	t.Helper()
	g := &gatedStack{Queue: newFakeQueue(), Sessions: newFakeSessions(), banned: map[string]error{}, live: true}
	gate := func(ctx context.Context, userID string) (err error) {
		g.gates.do(func() {
			g.asked = append(g.asked, userID)
			g.live = g.live && ctx.Err() == nil
			err = g.banned[userID]
		})
		return err
	}
	authn := datingTokens{}
	broker := memory.NewBroker()
	tr, err := transport.New(transport.Config{
		Modules: []transport.Module{
			transport.QueueModule(transport.QueueConfig{Service: g.Queue, Authenticator: authn, Gate: gate}),
			transport.SessionModule(transport.SessionConfig{Service: g.Sessions, Authenticator: authn, Gate: gate}),
		},
		Broker: broker, EventRate: -1, MaxSocketsPerUser: maxSockets, ConnectRate: -1,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	g.stack = &stack{URL: serve(t, tr), T: tr, Broker: broker}
	return g
}

func (g *gatedStack) ban(userID string, err error) {
	g.gates.do(func() {
		if err == nil {
			delete(g.banned, userID)
		} else {
			g.banned[userID] = err
		}
	})
}

// connectErrorOf connects to ns as the user of tok and returns the raw
// CONNECT_ERROR payload; it fails the test if the socket is accepted.
func connectErrorOf(t testing.TB, s *stack, ns, tok string) string {
	t.Helper()
	c, err := siotest.Dial(context.Background(), s.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := c.Connect(ns, map[string]string{"token": tok}, wait)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != 4 {
		t.Fatalf("%s accepted %s: %s", ns, tok, p.Data)
	}
	return string(p.Data)
}

// A gate refuses a banned user's /queue and /video sockets with the
// error's code and details, before the services hear of them; other users
// connect as before, and a token is checked before the gate.
func TestConnectGates(t *testing.T) {
	g := newGatedStack(t, -1)
	g.ban("mallory", banned())
	g.ban("broken", errors.New("ban store exploded"))
	g.ban("sneaky", moderation.ErrUserBanned.WithDetails(map[string]any{"code": "OK", "until": banUntil, "broken": make(chan int)}))
	for _, ns := range []string{"/queue", "/video"} {
		if got, want := connectErrorOf(t, g.stack, ns, "tok-mallory"), `{"message":"you are banned for now","data":{"code":"USER_BANNED","until":"2026-12-02T10:00:00Z"}}`; got != want {
			t.Errorf("%s, banned: %s, want %s", ns, got, want)
		}
		if got, want := connectErrorOf(t, g.stack, ns, "tok-broken"), `{"message":"an unexpected error occurred","data":{"code":"UNKNOWN_ERROR"}}`; got != want {
			t.Errorf("%s, failing gate: %s, want %s", ns, got, want)
		}
		if got, want := connectErrorOf(t, g.stack, ns, "tok-sneaky"), `{"message":"you are banned for now","data":{"code":"USER_BANNED","until":"2026-12-02T10:00:00Z"}}`; got != want {
			t.Errorf("%s, details with a code: %s, want %s", ns, got, want)
		}
		if got := refusedWith(t, g.stack, ns, map[string]string{"token": "expired"}); got != "TOKEN_EXPIRED" {
			t.Errorf("%s, expired token: %s", ns, got)
		}
		userSocket(t, g.stack, ns, "tok-alice")
	}
	g.gates.read(func() {
		want := []string{"mallory", "broken", "sneaky", "alice", "mallory", "broken", "sneaky", "alice"}
		if len(g.asked) != len(want) {
			t.Fatalf("gates asked about %v, want %v", g.asked, want)
		}
		for i := range want {
			if g.asked[i] != want[i] {
				t.Fatalf("gates asked about %v, want %v", g.asked, want)
			}
		}
		if !g.live {
			t.Error("a gate ran with a dead context")
		}
	})
	// alice's /queue socket was reported and her /video socket looked up;
	// the refused users never reached the services.
	g.Queue.waitFor(t, "alice's SocketConnected", func() bool { return len(g.Queue.connected) == 1 })
	g.Queue.read(func() {
		if c := g.Queue.connected[0]; c.userID != "alice" {
			t.Errorf("SocketConnected for %+v", c)
		}
	})
	g.Sessions.waitFor(t, "alice's Current", func() bool { return len(g.Sessions.current) == 1 })
	g.Sessions.read(func() {
		if g.Sessions.current[0] != "alice" {
			t.Errorf("Current for %v", g.Sessions.current)
		}
	})
}

// A refused socket gives its slot of the per-user socket cap back, so a
// user whose ban is lifted connects at once.
func TestConnectGateReleasesTheSocketSlot(t *testing.T) {
	g := newGatedStack(t, 1)
	g.ban("mallory", banned())
	for _, ns := range []string{"/queue", "/video"} {
		for i := 0; i < 3; i++ {
			connectErrorOf(t, g.stack, ns, "tok-mallory")
		}
	}
	g.ban("mallory", nil)
	for _, ns := range []string{"/queue", "/video"} {
		// A refused socket's slot is given back as its context ends, which
		// may come just after the CONNECT_ERROR.
		eventually(t, "mallory's "+ns+" socket after the ban", func() bool {
			r := tryConnect(g.stack, ns, map[string]string{"token": "tok-mallory"})
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !r.ok {
				r.client.Close()
				if r.code != "TOO_MANY_SOCKETS" {
					t.Fatalf("%s after the ban: refused with %s", ns, r.code)
				}
				return false
			}
			t.Cleanup(func() { r.client.Close() })
			return true
		})
	}
}
