package socketio

import (
	"bytes"
	"context"
	"strings"

	"fmt"
	"github.com/gobwas/ws"
	"os"
	"os/exec"
	"testing"
)

// readerModeEnv selects the WebSocket read mode of a test run: unset (the
// default: the poller where it is available) or "goroutine".
const readerModeEnv = "SOCKETIO_TEST_READER"

// TestMain runs the package's tests twice: with the readiness poller (the
// default), then, in a child process, with Config.GoroutineReader forced
// on every server, so that both ways of reading WebSockets pass every test.
func TestMain(m *testing.M) {
	mode := os.Getenv(readerModeEnv)
	if mode == "goroutine" {
		forceGoroutineReader = true
	}
	code := m.Run()
	if code != 0 || mode != "" {
		os.Exit(code)
	}
	fmt.Printf("=== socketio tests again with %s=goroutine\n", readerModeEnv)
	cmd := exec.Command(os.Args[0], childArgs(os.Args[1:])...)
	cmd.Env = append(os.Environ(), readerModeEnv+"=goroutine")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "goroutine reader run:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childArgs drops the flags naming output files that the first run wrote
// (profiles, the go command's test log), so that the second run does not
// overwrite them.
func childArgs(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "test.coverprofile", "test.cpuprofile", "test.memprofile", "test.blockprofile",
			"test.mutexprofile", "test.trace", "test.testlogfile":
			if !hasValue {
				i++ // the value is the next argument
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// polled reports whether the session of the socket with id sid is read by
// the server's poller.
func polled(srv *Server, s *Socket) bool {
	c := s.conn
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws != nil && c.ws.poll != nil
}

// Frames cut anywhere, arriving in as many reads: a fragmented message with
// a ping between its fragments, written a byte at a time, then a message
// larger than a read burst in small pieces. Each is handled once complete,
// in order.
func TestWebSocketFramesInPieces(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	sockets := make(chan *Socket, 1)
	srv.Of("/").OnConnected(func(s *Socket) { sockets <- s })
	srv.Of("/").On("echo", func(s *Socket, ev *Event) { ev.Ack(len(ev.Args[0])) })
	c, _ := connectNamespace(t, ts, "/")
	s := <-sockets
	if want := !forceGoroutineReader; polled(srv, s) != want {
		t.Fatalf("polled: %v, want %v", !want, want)
	}

	var raw bytes.Buffer
	for _, f := range []ws.Frame{
		ws.NewFrame(ws.OpText, false, []byte(`421["ec`)),
		ws.NewPingFrame([]byte("hi")),
		ws.NewFrame(ws.OpContinuation, false, []byte(`ho","frag`)),
		ws.NewFrame(ws.OpContinuation, true, []byte(`mented"]`)),
	} {
		if err := ws.WriteFrame(&raw, ws.MaskFrameInPlace(f)); err != nil {
			t.Fatal(err)
		}
	}
	big := `422["echo","` + strings.Repeat("x", 100_000) + `"]`
	bigAt := raw.Len()
	if err := ws.WriteFrame(&raw, ws.MaskFrameInPlace(ws.NewTextFrame([]byte(big)))); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		b := raw.Bytes()
		for i := 0; i < len(b); {
			n := 1
			if i >= bigAt {
				n = min(len(b)-i, 3000)
			}
			if _, err := c.conn.Write(b[i : i+n]); err != nil {
				return
			}
			i += n
		}
	}()
	if got := c.next(); got != `431[12]` {
		t.Fatalf("got %q", got)
	}
	if got := c.next(); got != `432[100002]` {
		t.Fatalf("got %q", got)
	}
}

// Shutdown stops the poller once every connection ended.
func TestShutdownStopsPoller(t *testing.T) {
	srv := NewServer(Config{Logger: discardLogger()})
	ts := serve(t, srv)
	srv.Of("/")
	c, _ := connectNamespace(t, ts, "/")
	srv.pollMu.Lock()
	started := srv.poll != nil
	srv.pollMu.Unlock()
	if started == forceGoroutineReader {
		t.Fatalf("poller started: %v", started)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
	srv.pollMu.Lock()
	defer srv.pollMu.Unlock()
	if srv.poll != nil {
		t.Fatal("the poller is still running")
	}
}
