package socketio

import (
	"context"
	"encoding/json"
	"github.com/rendezvous-go/rendezvous/internal/logbuf"
	"log/slog"
	"strings"
	"testing"
)

// Neither the packets sent back to a client nor the log lines repeat more
// than a short prefix of what a client sent.
func TestClientInputIsNotEchoed(t *testing.T) {
	var logs logbuf.Buffer
	srv, ts := newTestServer(t, Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	long := strings.Repeat("x", 5000)
	tooMuch := strings.Repeat("x", maxEcho+1)
	argErr := make(chan string, 1)
	nsp := srv.Of("/")
	nsp.OnAny(func(s *Socket, ev *Event) {
		if err := ev.Arg(3, new(int)); err != nil {
			argErr <- err.Error()
		}
		panic("handler failure")
	})
	nsp.OnConnect(func(ctx context.Context, s *Socket, _ json.RawMessage) error { return nil })

	// An event with a long name whose handler fails.
	c, _ := connectNamespace(t, ts, "/")
	c.send(`42["` + long + `"]`)
	if got := c.next(); got != "41" {
		t.Fatalf("got %q", got)
	}
	if msg := <-argErr; strings.Contains(msg, tooMuch) || !strings.Contains(msg, "xxxx") {
		t.Fatalf("Event.Arg error %q", msg)
	}
	// A CONNECT to a long unknown namespace.
	c.send(`40/` + long + `,`)
	msgs := c.expectClosed()
	for _, m := range msgs {
		if strings.Contains(m, tooMuch) {
			t.Fatalf("reply echoes the namespace: %.100q…", m)
		}
	}
	// Malformed packets carrying long input.
	for _, bad := range []string{`42["a",` + long, `4` + long, long, `40/` + long + `,{`} {
		c, _ := dialEngine(t, ts)
		c.send(bad)
		for _, m := range c.expectClosed() {
			if strings.Contains(m, tooMuch) {
				t.Fatalf("reply echoes the input: %.100q…", m)
			}
		}
	}
	p := newPollClient(t, ts)
	p.post(`42["a",` + long)

	waitFor(t, "sessions closed", func() bool { return srv.ConnCount() == 0 })
	out := logs.String()
	if !strings.Contains(out, "handler failure") {
		t.Fatalf("panic not logged:\n%.2000s", out)
	}
	if i := strings.Index(out, tooMuch); i >= 0 {
		t.Fatalf("log repeats client input: …%.300s…", out[max(0, i-200):])
	}
}
