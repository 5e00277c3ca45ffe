package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// This file holds what the tests of the dating loop's modules (queue,
// session, optin) share: an Authenticator of fixed tokens, a recorder to
// wait on what the fakes saw, and a server with the three modules.

// datingTokens is an Authenticator: "tok-<id>" is user <id>; "expired"
// and "revoked" fail as such; anything else is invalid.
type datingTokens struct{}

func (datingTokens) Authenticate(_ context.Context, token string) (auth.Principal, error) {
	switch {
	case token == "expired":
		return auth.Principal{}, auth.ErrTokenExpired
	case token == "revoked":
		return auth.Principal{}, auth.ErrTokenRevoked
	case strings.HasPrefix(token, "tok-") && len(token) > len("tok-"):
		return auth.Principal{UserID: strings.TrimPrefix(token, "tok-")}, nil
	}
	return auth.Principal{}, auth.ErrTokenInvalid
}

// recorder guards what a fake records and wakes the tests waiting on it.
type recorder struct {
	mu sync.Mutex
	ch chan struct{} // closed and replaced at every change
}

// do runs f under the lock and wakes the waiters.
func (r *recorder) do(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
	if r.ch != nil {
		close(r.ch)
	}
	r.ch = make(chan struct{})
}

// read runs f under the lock.
func (r *recorder) read(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// until waits until ok, checked under the lock after every change,
// holds, for at most wait; it reports whether it did. Unlike waitFor it
// may run on any goroutine.
func (r *recorder) until(ok func() bool) bool {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		done := ok()
		if r.ch == nil {
			r.ch = make(chan struct{})
		}
		ch := r.ch
		r.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// waitFor waits until ok holds (see until); it fails the test after wait.
func (r *recorder) waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	if !r.until(ok) {
		t.Fatalf("%s: still not the case after %s", what, wait)
	}
}

// logSink is a log destination that tests can wait on.
type logSink struct {
	recorder
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.do(func() { l.buf.Write(p) })
	return len(p), nil
}

// waitLine waits for a logged line holding every one of parts.
func (l *logSink) waitLine(t testing.TB, parts ...string) {
	t.Helper()
	l.waitFor(t, "log line with "+strings.Join(parts, " "), func() bool {
	lines:
		for _, line := range strings.Split(l.buf.String(), "\n") {
			for _, p := range parts {
				if !strings.Contains(line, p) {
					continue lines
				}
			}
			return true
		}
		return false
	})
}

// datingStack is a server with the queue, session and optin modules on
// fakes.
type datingStack struct {
	*stack
	Queue    *fakeQueue
	Sessions *fakeSessions
	Choices  *fakeChoices
	Logs     *logSink
}

func newDatingStack(t testing.TB) *datingStack {
	t.Helper()
	d := &datingStack{Queue: newFakeQueue(), Sessions: newFakeSessions(), Choices: &fakeChoices{}, Logs: &logSink{}}
	authn := datingTokens{}
	broker := memory.NewBroker()
	tr, err := transport.New(transport.Config{
		Modules: []transport.Module{
			transport.QueueModule(transport.QueueConfig{Service: d.Queue, Authenticator: authn}),
			transport.SessionModule(transport.SessionConfig{Service: d.Sessions, Authenticator: authn}),
			transport.OptinModule(transport.OptinConfig{Service: d.Choices, Authenticator: authn}),
		},
		Broker: broker, EventRate: -1, MaxSocketsPerUser: -1, ConnectRate: -1,
		Logger: slog.New(slog.NewJSONHandler(d.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	// An acknowledged no-op event on both namespaces: its ack comes after
	// the socket's connected step, and after whatever that step emitted.
	for _, ns := range []string{"/queue", "/video"} {
		tr.SocketIO().Of(ns).On("test:ping", func(_ *socketio.Socket, ev *socketio.Event) {
			if ev.Ack != nil {
				ev.Ack("pong")
			}
		})
	}
	d.stack = &stack{URL: serve(t, tr), T: tr, Broker: broker}
	return d
}

// userSocket connects a socket of the user with token tok to ns and
// returns it with its socket id.
func userSocket(t testing.TB, s *stack, ns, tok string) (*siotest.Client, string) {
	t.Helper()
	c := dial(t, s)
	p, err := c.Connect(ns, map[string]string{"token": tok}, wait)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != 0 {
		t.Fatalf("connect to %s refused: %s", ns, p.Data)
	}
	var sid struct{ SID string }
	if err := json.Unmarshal(p.Data, &sid); err != nil || sid.SID == "" {
		t.Fatalf("CONNECT payload %s", p.Data)
	}
	return c, sid.SID
}

// settle returns once c's socket in ns has run its connected step and
// everything it emitted there has reached the client.
func settle(t testing.TB, c *siotest.Client, ns string) {
	t.Helper()
	out, err := c.EmitAck(ns, "test:ping", wait)
	if err != nil || len(out) != 1 || string(out[0]) != `"pong"` {
		t.Fatalf("test:ping on %s: %s %v", ns, out, err)
	}
}

// refusedWith connects to ns with auth and returns the CONNECT_ERROR's
// data.code.
func refusedWith(t testing.TB, s *stack, ns string, auth any) string {
	t.Helper()
	r := tryConnect(s, ns, auth)
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.client.Close()
	if r.ok {
		t.Fatalf("%s accepted auth %v", ns, auth)
	}
	return r.code
}

// The access-token check of both namespaces: every TOKEN_* refusal, over
// the handshake auth, and the Authorization header as an alternative.
func TestDatingNamespacesRefuseBadTokens(t *testing.T) {
	d := newDatingStack(t)
	for _, ns := range []string{"/queue", "/video"} {
		for auth, code := range map[string]string{"": "TOKEN_MISSING", "nope": "TOKEN_INVALID", "expired": "TOKEN_EXPIRED", "revoked": "TOKEN_REVOKED"} {
			var a any
			if auth != "" {
				a = map[string]string{"token": auth}
			}
			if got := refusedWith(t, d.stack, ns, a); got != code {
				t.Errorf("%s with token %q: %s, want %s", ns, auth, got, code)
			}
		}
		c, err := siotest.Dial(context.Background(), d.URL, map[string]string{"Authorization": "Bearer tok-hdr"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Connect(ns, nil, wait)
		c.Close()
		if err != nil || p.Type != 0 {
			t.Errorf("%s with an Authorization header: %v %s", ns, err, p.Data)
		}
	}
	// The refused sockets never reached the services.
	d.Queue.read(func() {
		for _, c := range d.Queue.connected {
			if c.userID != "hdr" {
				t.Errorf("SocketConnected for %+v", c)
			}
		}
	})
	d.Sessions.read(func() {
		for _, u := range d.Sessions.current {
			if u != "hdr" {
				t.Errorf("Current for %s", u)
			}
		}
	})
}
