package siotest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

const waitLimit = 20 * time.Second

// leanServer is a socketio.Server with a /rooms namespace that accepts
// the token "ok", greets each socket with a short and a 70,000-byte event
// (a 64-bit WebSocket length), and answers "echo" with "echoed" to the
// sender and "said" to the lobby. Pings are frequent, so the tests see
// heartbeats.
func leanServer(t *testing.T) string {
	t.Helper()
	srv := socketio.NewServer(socketio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 2 * time.Second})
	rooms := srv.Of("/rooms")
	rooms.OnConnect(func(ctx context.Context, s *socketio.Socket, auth json.RawMessage) error {
		var a struct{ Token string }
		if json.Unmarshal(auth, &a) != nil || a.Token != "ok" {
			return &socketio.ConnectError{Message: "unauthorized"}
		}
		s.Join("lobby")
		if err := s.Emit("welcome", "hi"); err != nil {
			return err
		}
		return s.Emit("big", strings.Repeat("x", 70_000))
	})
	rooms.On("echo", func(s *socketio.Socket, ev *socketio.Event) {
		_ = s.Emit("echoed")
		rooms.Emit("lobby", "said", strings.Repeat("y", 300))
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ts.Close()
	})
	return ts.URL
}

func dialCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

func TestLeanRefused(t *testing.T) {
	base := leanServer(t)
	_, err := siotest.DialLean(dialCtx(t), base, "/rooms", []byte(`{"token":"no"}`))
	if !errors.Is(err, siotest.ErrConnectRefused) || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("err = %v, want a refused connect with the server's message", err)
	}
}

func TestLeanEventsPingsEmit(t *testing.T) {
	base := leanServer(t)
	c, err := siotest.DialLean(dialCtx(t), base, "/rooms", []byte(`{"token":"ok"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	names := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(func(name []byte, at time.Time) {
			if at.IsZero() {
				names <- "zero time"
				return
			}
			names <- string(bytes.Clone(name))
		})
	}()
	want := func(name string) {
		t.Helper()
		select {
		case got := <-names:
			if got != name {
				t.Fatalf("event %q, want %q", got, name)
			}
		case err := <-done:
			t.Fatalf("Run ended: %v", err)
		case <-time.After(waitLimit):
			t.Fatalf("no %q event", name)
		}
	}
	want("welcome")
	want("big")
	// Several heartbeats: each was answered, or the server would have
	// closed the connection after its ping timeout.
	deadline := time.Now().Add(waitLimit)
	for c.Pings() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pings received, want 3", c.Pings())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.Emit("echo", `"a",{"b":1}`); err != nil {
		t.Fatal(err)
	}
	want("echoed")
	want("said")
	if n := c.Events(); n != 4 {
		t.Fatalf("Events() = %d, want 4", n)
	}
	c.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run returned nil after Close")
		}
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after Close")
	}
}

// TestLeanDefaultNamespace connects to "/" and reads its events.
func TestLeanDefaultNamespace(t *testing.T) {
	srv := socketio.NewServer(socketio.Config{})
	srv.Of("/").OnConnect(func(ctx context.Context, s *socketio.Socket, auth json.RawMessage) error {
		return s.Emit("hello", 1)
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	c, err := siotest.DialLean(dialCtx(t), ts.URL, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan string, 1)
	go func() {
		_ = c.Run(func(name []byte, _ time.Time) {
			select {
			case got <- string(name):
			default:
			}
		})
	}()
	select {
	case n := <-got:
		if n != "hello" {
			t.Fatalf("event %q, want hello", n)
		}
	case <-time.After(waitLimit):
		t.Fatal("no hello event")
	}
}
