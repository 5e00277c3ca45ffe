package socketio

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
)

const rateLimitedConnectError = `{"message":"too many requests; try again later","data":{"code":"RATE_LIMITED"}}`

// CONNECT/DISCONNECT churn on one Engine.IO connection is limited like
// events: each CONNECT takes a token, and a CONNECT without one gets a
// CONNECT_ERROR, so it never reaches the connect handler.
func TestRateLimitCountsConnects(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv, ts := newTestServer(t, Config{EventRate: 1, EventBurst: 5, Now: clk.Now, Logger: discardLogger()})
	nsp := srv.Of("/a")
	var connects, broadcasts atomic.Int32
	nsp.OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		connects.Add(1)
		if string(auth) == `{"watch":true}` {
			s.Join("watch")
			return nil
		}
		nsp.Emit("watch", "joined")
		return nil
	})
	nsp.OnDisconnect(func(s *Socket, _ string) { nsp.Emit("watch", "left") })
	watcher, _ := dialEngine(t, ts)
	watcher.connect("/a", `{"watch":true}`)
	go func() {
		for {
			msg, _, err := watcher.readMsg(time.Hour)
			if err != nil {
				return
			}
			if msg == "2" {
				watcher.write(ws.OpText, []byte("3"))
			} else if strings.HasPrefix(msg, `42/a,["`) {
				broadcasts.Add(1)
			}
		}
	}()

	c, _ := dialEngine(t, ts)
	const pairs = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range pairs {
			if err := c.write(ws.OpText, []byte("40/a,")); err != nil {
				return
			}
			if err := c.write(ws.OpText, []byte("41/a,")); err != nil {
				return
			}
		}
	}()
	accepted, refused := 0, 0
	for accepted+refused < pairs {
		msg := c.next()
		switch {
		case strings.HasPrefix(msg, `40/a,{"sid":`):
			accepted++
		case msg == `44/a,`+rateLimitedConnectError:
			refused++
		default:
			t.Fatalf("unexpected %q", msg)
		}
	}
	<-done
	if accepted != 5 || refused != pairs-5 {
		t.Fatalf("accepted %d, refused %d", accepted, refused)
	}
	if n := connects.Load(); n != 1+5 {
		t.Fatalf("connect handler ran %d times", n)
	}
	// Broadcasts caused by the churn: one per accepted CONNECT and one per
	// DISCONNECT of an accepted socket.
	waitFor(t, "broadcasts", func() bool { return broadcasts.Load() == 10 })

	// Tokens come back with time.
	clk.Advance(2 * time.Second)
	c.send("40/a,")
	if got := c.next(); !strings.HasPrefix(got, `40/a,{"sid":`) {
		t.Fatalf("after 2 s: %q", got)
	}
	c.send("41/a,")
	c.send("40/a,")
	if got := c.next(); !strings.HasPrefix(got, `40/a,{"sid":`) {
		t.Fatalf("after 2 s, second: %q", got)
	}
	c.send("40/b,") // unknown namespaces count too
	if got := c.next(); got != `44/b,`+rateLimitedConnectError {
		t.Fatalf("third after 2 s: %q", got)
	}
	if broadcasts.Load() > 13 {
		t.Fatalf("%d broadcasts", broadcasts.Load())
	}
}

// EVENT and BINARY_EVENT packets share the bucket of their connection with
// CONNECTs, across namespaces. Without OnRateLimited a limited event is
// dropped and its ack never sent; with it, the handler answers. ACKs from
// the client are not counted.
func TestRateLimitedEvents(t *testing.T) {
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	srv, ts := newTestServer(t, Config{EventRate: 1, EventBurst: 4, Now: clk.Now})
	var handled atomic.Int32
	var sock atomic.Pointer[Socket]
	for _, name := range []string{"/a", "/b"} {
		nsp := srv.Of(name)
		nsp.On("e", func(s *Socket, ev *Event) {
			handled.Add(1)
			ev.Ack("ok", len(ev.Attachments))
		})
	}
	srv.Of("/a").OnConnect(func(ctx context.Context, s *Socket, _ json.RawMessage) error {
		sock.Store(s)
		return nil
	})
	c, _ := dialEngine(t, ts)
	// barrier returns once the server handled every packet sent before it:
	// the server asks for an acknowledgement, and the client's ACK (which
	// takes no token) is handled after them.
	ackID := 0
	barrier := func() {
		t.Helper()
		done := make(chan struct{})
		if err := sock.Load().EmitWithAck("sync", func([]json.RawMessage) { close(done) }); err != nil {
			t.Fatal(err)
		}
		if got := c.next(); got != `42/a,`+itoa(ackID)+`["sync"]` {
			t.Fatalf("got %q", got)
		}
		c.send(`43/a,` + itoa(ackID) + `[]`)
		ackID++
		select {
		case <-done:
		case <-time.After(testTimeout):
			t.Fatal("ack callback not called")
		}
	}

	c.connect("/a", "")                                   // 1
	c.connect("/b", "")                                   // 2
	c.send(`42/a,1["e"]`)                                 // 3
	c.send(`451-/b,2["e",{"_placeholder":true,"num":0}]`) // 4
	c.sendBinary([]byte{1})
	if got := c.next(); got != `43/a,1["ok",0]` {
		t.Fatalf("got %q", got)
	}
	if got := c.next(); got != `43/b,2["ok",1]` {
		t.Fatalf("got %q", got)
	}
	// Out of tokens: dropped, no ack.
	c.send(`42/a,3["e"]`)
	c.send(`451-/b,4["e",{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{1})
	for range 5 {
		barrier() // ACKs take no token
	}
	clk.Advance(time.Second)
	c.send(`42/a,5["e"]`)
	if got := c.next(); got != `43/a,5["ok",0]` {
		t.Fatalf("got %q, want the ack of the event sent after a second", got)
	}
	if n := handled.Load(); n != 3 {
		t.Fatalf("handler ran %d times", n)
	}

	// With OnRateLimited, the application answers limited events.
	var limited atomic.Int32
	srv.Of("/a").OnRateLimited(func(s *Socket, ev *Event) {
		limited.Add(1)
		if ev.Ack != nil {
			ev.Ack("limited", ev.Name)
		}
	})
	c.send(`42/a,6["e"]`)
	if got := c.next(); got != `43/a,6["limited","e"]` {
		t.Fatalf("got %q", got)
	}
	c.send(`42/a,7["nohandler"]`) // no handler: ignored, limited or not
	c.send(`42/b,8["e"]`)         // /b has no OnRateLimited: dropped
	barrier()
	clk.Advance(time.Second)
	c.send(`42/b,9["e"]`)
	if got := c.next(); got != `43/b,9["ok",0]` {
		t.Fatalf("got %q", got)
	}
	if limited.Load() != 1 || handled.Load() != 4 {
		t.Fatalf("limited %d, handled %d", limited.Load(), handled.Load())
	}
}

// A zero or negative EventRate disables the limit.
func TestNoRateLimitByDefault(t *testing.T) {
	for _, rate := range []float64{0, -1} {
		srv, ts := newTestServer(t, Config{EventRate: rate, EventBurst: 1})
		srv.Of("/").On("e", func(s *Socket, ev *Event) { ev.Ack() })
		c, _ := connectNamespace(t, ts, "/")
		for i := range 50 {
			c.send(`42` + itoa(i) + `["e"]`)
		}
		for i := range 50 {
			if got := c.next(); got != `43`+itoa(i)+`[]` {
				t.Fatalf("rate %v: got %q", rate, got)
			}
		}
	}
}
