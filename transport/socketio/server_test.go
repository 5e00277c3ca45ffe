package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func TestPollingHandshake(t *testing.T) {
	// A short interval for the test to see pings, a timeout long enough for
	// a loaded machine to answer them.
	srv, ts := newTestServer(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: time.Minute})
	p := newPollClient(t, ts)
	keys := make([]string, 0, len(p.open))
	for k := range p.open {
		keys = append(keys, k)
	}
	if len(keys) != 5 {
		t.Fatalf("handshake keys %v", keys)
	}
	if !reflect.DeepEqual(p.open["upgrades"], []any{"websocket"}) {
		t.Fatalf("upgrades %v", p.open["upgrades"])
	}
	if p.open["pingInterval"] != 100.0 || p.open["pingTimeout"] != 60000.0 || p.open["maxPayload"] != 1e6 {
		t.Fatalf("handshake %v", p.open)
	}
	if len(p.sid) != 20 {
		t.Fatalf("sid %q", p.sid)
	}
	if srv.ConnCount() != 1 {
		t.Fatalf("ConnCount = %d", srv.ConnCount())
	}
	// Engine-level ping/pong over polling.
	for range 2 {
		if got := p.getPackets(); !reflect.DeepEqual(got, []string{"2"}) {
			t.Fatalf("expected ping, got %q", got)
		}
		p.mustPost("3")
	}
}

func TestRequestErrors(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	p := newPollClient(t, ts)
	base := ts.URL + "/socket.io/"
	tests := []struct {
		name   string
		method string
		query  string
		status int
		body   string
	}{
		{"missing EIO", "GET", "transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO 3", "GET", "EIO=3&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO abc", "GET", "EIO=abc&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"missing transport", "GET", "EIO=4", 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown transport", "GET", "EIO=4&transport=abc", 400, `{"code":0,"message":"Transport unknown"}`},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"unknown sid post", "POST", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"POST handshake", "POST", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"PUT handshake", "PUT", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`},
		{"websocket sid without upgrade", "GET", "EIO=4&transport=websocket&sid=" + p.sid, 400, `{"code":3,"message":"Bad request"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := doRequest(tt.method, base+"?"+tt.query, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			var body strings.Builder
			buf := make([]byte, 512)
			n, _ := resp.Body.Read(buf)
			body.Write(buf[:n])
			if resp.StatusCode != tt.status || body.String() != tt.body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body.String(), tt.status, tt.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
	// A WebSocket upgrade with an invalid EIO is refused.
	if _, err := tryDialWS(base+"?EIO=3&transport=websocket", nil); err == nil {
		t.Fatal("websocket with EIO=3 accepted")
	}
	if _, err := tryDialWS(base+"?EIO=4&transport=websocket&sid=nope", nil); err == nil {
		t.Fatal("websocket with unknown sid accepted")
	}
}

func TestPollingSocketIO(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	srv.Of("/").On("echo", func(s *Socket, ev *Event) {
		args := make([]any, len(ev.Args))
		for i, a := range ev.Args {
			args[i] = a
		}
		s.Emit("echo-back", args...)
	})
	p := newPollClient(t, ts)
	p.mustPost("40")
	got := p.nextPackets()
	if len(got) != 1 || !strings.HasPrefix(got[0], `40{"sid":"`) {
		t.Fatalf("connect: %q", got)
	}
	p.mustPost(`42["echo","hi",{"n":1}]` + "\x1e" + `42["echo",2]`)
	got = p.nextPackets()
	for len(got) < 2 {
		got = append(got, p.nextPackets()...)
	}
	want := []string{`42["echo-back","hi",{"n":1}]`, `42["echo-back",2]`}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
	// UTF-8 payloads survive the polling transport.
	p.mustPost(`42["echo","héllo €"]`)
	if got := p.nextPackets(); got[0] != `42["echo-back","héllo €"]` {
		t.Fatalf("got %q", got)
	}
}

func TestPollingToWebSocketUpgrade(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	var sock atomic.Pointer[Socket]
	srv.Of("/").OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		sock.Store(s)
		return nil
	})
	srv.Of("/").On("ping", func(s *Socket, ev *Event) { ev.Ack("pong") })

	p := newPollClient(t, ts)
	p.mustPost("40")
	if got := p.nextPackets(); !strings.HasPrefix(got[0], "40{") {
		t.Fatalf("connect: %q", got)
	}

	// A GET is pending while the client probes the WebSocket.
	type result struct {
		status int
		body   string
	}
	pending := make(chan result, 1)
	go func() {
		resp, err := doRequest("GET", p.url(), "", nil)
		if err != nil {
			pending <- result{0, err.Error()}
			return
		}
		buf := make([]byte, 64)
		n, _ := resp.Body.Read(buf)
		pending <- result{resp.StatusCode, string(buf[:n])}
	}()
	p.waitGetPending(srv)

	c := dialWS(t, eioURL(ts, "transport=websocket&sid="+p.sid))
	c.send("2probe")
	if got := c.read(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	select {
	case r := <-pending:
		if r.status != 200 || r.body != "6" {
			t.Fatalf("pending GET got %d %q, want noop", r.status, r.body)
		}
	case <-time.After(testTimeout):
		t.Fatal("pending GET not released")
	}
	// A packet emitted before the upgrade completes is flushed over the WebSocket.
	if err := sock.Load().Emit("during", 1); err != nil {
		t.Fatal(err)
	}
	// A second WebSocket for the same session is closed right away.
	c2 := dialWS(t, eioURL(ts, "transport=websocket&sid="+p.sid))
	if got := c2.expectClosed(); len(got) != 0 {
		t.Fatalf("second websocket got %q", got)
	}
	c.send("5")
	if got := c.next(); got != `42["during",1]` {
		t.Fatalf("buffered packet: %q", got)
	}
	c.send(`421["ping"]`)
	if got := c.next(); got != `431["pong"]` {
		t.Fatalf("ack over websocket: %q", got)
	}
	// Polling requests are refused after the upgrade.
	if status, body := p.get(); status != 400 || !strings.Contains(body, `"code":3`) {
		t.Fatalf("GET after upgrade: %d %q", status, body)
	}
	c3 := dialWS(t, eioURL(ts, "transport=websocket&sid="+p.sid))
	if got := c3.expectClosed(); len(got) != 0 {
		t.Fatalf("websocket after upgrade got %q", got)
	}
	c.send(`422["ping"]`)
	if got := c.next(); got != `432["pong"]` {
		t.Fatalf("upgraded connection broken: %q", got)
	}
	if srv.ConnCount() != 1 {
		t.Fatalf("ConnCount = %d", srv.ConnCount())
	}
}

func TestUpgradeWithoutPendingGet(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	srv.Of("/")
	p := newPollClient(t, ts)
	c := dialWS(t, eioURL(ts, "transport=websocket&sid="+p.sid))
	c.send("2probe")
	if got := c.read(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	// A GET issued after the probe returns a noop right away.
	if status, body := p.get(); status != 200 || body != "6" {
		t.Fatalf("GET during upgrade: %d %q", status, body)
	}
	c.send("5")
	c.send("4hello") // engine-level message: not a valid socket.io packet → closed
	c.send("40")
	msgs := c.expectClosed()
	_ = msgs
}

func TestFailedProbeKeepsPolling(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	srv.Of("/")
	p := newPollClient(t, ts)
	c := dialWS(t, eioURL(ts, "transport=websocket&sid="+p.sid))
	c.send("4garbage") // not a probe: the WebSocket is closed, polling goes on
	c.expectClosed()
	p.mustPost("40")
	if got := p.nextPackets(); !strings.HasPrefix(got[0], "40{") {
		t.Fatalf("connect after failed probe: %q", got)
	}
}

func TestWebSocketOnly(t *testing.T) {
	srv, ts := newTestServer(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: time.Minute})
	srv.Of("/").On("sum", func(s *Socket, ev *Event) {
		var a, b int
		if ev.Arg(0, &a) != nil || ev.Arg(1, &b) != nil {
			t.Errorf("bad args %q", ev.Args)
		}
		if ev.Ack != nil {
			ev.Ack(a + b)
			ev.Ack(0) // ignored
		}
	})
	c, open := dialEngine(t, ts)
	if !reflect.DeepEqual(open["upgrades"], []any{}) || open["pingInterval"] != 100.0 || open["pingTimeout"] != 60000.0 || open["maxPayload"] != 1e6 {
		t.Fatalf("open %v", open)
	}
	sid := c.connect("/", "")
	if sid == open["sid"] {
		t.Fatal("socket id equals engine id")
	}
	c.send(`421["sum",1,2]`)
	if got := c.next(); got != `431[3]` {
		t.Fatalf("ack %q", got)
	}
	c.send(`42["sum",5,6]`) // no ack requested
	c.send(`427["sum",5,6]`)
	if got := c.next(); got != `437[11]` {
		t.Fatalf("ack %q", got)
	}
	// Heartbeat: several pings are answered and the connection stays up.
	for range 3 {
		if got := c.read(); got != "2" {
			t.Fatalf("expected ping, got %q", got)
		}
		c.send("3")
	}
	if srv.ConnCount() != 1 {
		t.Fatalf("ConnCount = %d", srv.ConnCount())
	}
}

func TestConnectAuth(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	type claims struct{ User string }
	nsp := srv.Of("/secure")
	nsp.OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		var a struct{ Token string }
		if auth != nil {
			json.Unmarshal(auth, &a)
		}
		switch a.Token {
		case "good":
			s.SetData(claims{User: "alice"})
			s.Join("lobby")
			s.Emit("room:state", "hello", 1) // queued until CONNECT is sent
			return nil
		case "plain":
			return errors.New("plain failure")
		}
		return &ConnectError{Message: "unauthorized", Data: map[string]int{"code": 401}}
	})
	nsp.On("whoami", func(s *Socket, ev *Event) {
		ev.Ack(s.Data().(claims).User, s.Rooms(), s.Namespace())
	})

	c, _ := dialEngine(t, ts)
	c.send(`40/secure,{"token":"bad"}`)
	if got := c.next(); got != `44/secure,{"message":"unauthorized","data":{"code":401}}` {
		t.Fatalf("connect error %q", got)
	}
	c.send(`40/secure,`)
	if got := c.next(); got != `44/secure,{"message":"unauthorized","data":{"code":401}}` {
		t.Fatalf("connect error %q", got)
	}
	c.send(`40/secure,{"token":"plain"}`)
	if got := c.next(); got != `44/secure,{"message":"plain failure"}` {
		t.Fatalf("connect error %q", got)
	}
	// Events for a namespace that is not connected are ignored.
	c.send(`42/secure,1["whoami"]`)
	// The same Engine.IO connection can still connect.
	c.send(`40/secure,{"token":"good"}`)
	msg := c.next()
	if !strings.HasPrefix(msg, `40/secure,{"sid":"`) {
		t.Fatalf("connect %q", msg)
	}
	if got := c.next(); got != `42/secure,["room:state","hello",1]` {
		t.Fatalf("event emitted in OnConnect: %q", got)
	}
	c.send(`42/secure,2["whoami"]`)
	if got := c.next(); got != `43/secure,2["alice",["lobby"],"/secure"]` {
		t.Fatalf("whoami: %q", got)
	}
	if n := nsp.RoomSize("lobby"); n != 1 {
		t.Fatalf("RoomSize = %d", n)
	}
	// Unknown namespace.
	c.send("40/random")
	if got := c.next(); got != `44/random,{"message":"Invalid namespace"}` {
		t.Fatalf("invalid namespace: %q", got)
	}
}

func TestConnectHandlerContextAndRequest(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	rec := newRecorder()
	ctxDone := make(chan struct{})
	srv.Of("/").OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		if auth != nil {
			t.Errorf("auth = %s, want nil", auth)
		}
		if s.Request().Header.Get("User-Agent") != "yes" || s.Request().RemoteAddr == "" {
			t.Errorf("request not available: %v", s.Request().Header)
		}
		if ctx.Err() != nil {
			t.Error("context already done")
		}
		if _, ok := ctx.Deadline(); ok {
			t.Error("unexpected deadline")
		}
		// Derived contexts and context.AfterFunc follow the socket.
		derived, cancel := context.WithTimeout(ctx, time.Hour)
		context.AfterFunc(derived, func() {
			cancel()
			close(ctxDone)
		})
		stop := context.AfterFunc(ctx, func() { t.Error("stopped AfterFunc ran") })
		if !stop() {
			t.Error("AfterFunc not stopped")
		}
		r := s.Request()
		if r.Method != "GET" || r.URL.Query().Get("EIO") != "4" || r.Header.Get("Upgrade") != "" || r.Header.Get("Sec-Websocket-Key") != "" {
			t.Errorf("request %+v", r)
		}
		return nil
	})
	srv.Of("/").OnDisconnect(rec.onDisconnect)
	cl, err := tryDialWS(eioURL(ts, "transport=websocket"), http.Header{"User-Agent": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	cl.t = t
	defer cl.conn.Close()
	cl.read()
	cl.connect("/", "")
	cl.send("41")
	if r := rec.wait(t); r != "client namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
	select {
	case <-ctxDone:
	case <-time.After(testTimeout):
		t.Fatal("socket context not cancelled")
	}
	var s *Socket
	srv.Of("/").OnConnect(func(ctx context.Context, sock *Socket, auth json.RawMessage) error {
		s = sock
		return errors.New("no")
	})
	cl.send("40")
	if got := cl.next(); got != `44{"message":"no"}` {
		t.Fatalf("got %q", got)
	}
	// The context of a refused socket is done.
	select {
	case <-s.Context().Done():
	default:
		t.Fatal("context of refused socket not done")
	}
	if !errors.Is(s.Context().Err(), context.Canceled) {
		t.Fatalf("Err = %v", s.Context().Err())
	}
}

func TestEmitToRoom(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	nsp := srv.Of("/")
	nsp.On("join", func(s *Socket, ev *Event) {
		var room string
		ev.Arg(0, &room)
		s.Join(room)
		ev.Ack()
	})
	nsp.On("leave", func(s *Socket, ev *Event) {
		var room string
		ev.Arg(0, &room)
		s.Leave(room)
		ev.Ack()
	})
	a, _ := connectNamespace(t, ts, "/")
	b, _ := connectNamespace(t, ts, "/")
	c, _ := connectNamespace(t, ts, "/")
	for _, cl := range []*wsClient{a, b} {
		cl.send(`421["join","r1"]`)
		if got := cl.next(); got != `431[]` {
			t.Fatalf("join ack %q", got)
		}
	}
	if n := nsp.RoomSize("r1"); n != 2 {
		t.Fatalf("RoomSize = %d", n)
	}
	if n := nsp.RoomSize(""); n != 3 {
		t.Fatalf("RoomSize(\"\") = %d", n)
	}
	nsp.Emit("r1", "news", "only r1")
	nsp.Emit("", "all", 1)
	for _, cl := range []*wsClient{a, b} {
		if got := cl.next(); got != `42["news","only r1"]` {
			t.Fatalf("member got %q", got)
		}
		if got := cl.next(); got != `42["all",1]` {
			t.Fatalf("member got %q", got)
		}
	}
	if got := c.next(); got != `42["all",1]` {
		t.Fatalf("non-member got %q", got)
	}
	a.send(`422["leave","r1"]`)
	if got := a.next(); got != `432[]` {
		t.Fatalf("leave ack %q", got)
	}
	nsp.Emit("r1", "news", 2)
	if got := b.next(); got != `42["news",2]` {
		t.Fatalf("member got %q", got)
	}
	a.expectSilence(100 * time.Millisecond)
	if n := nsp.RoomSize("r1"); n != 1 {
		t.Fatalf("RoomSize = %d", n)
	}
	// Disconnected sockets leave their rooms.
	b.conn.Close()
	waitFor(t, "room cleanup", func() bool { return nsp.RoomSize("r1") == 0 })
}

func TestDisconnectRoom(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	nsp := srv.Of("/game")
	rec := newRecorder()
	nsp.OnDisconnect(rec.onDisconnect)
	nsp.On("join", func(s *Socket, ev *Event) { s.Join("table"); ev.Ack() })
	a, _ := dialEngine(t, ts)
	a.connect("/game", "")
	b, _ := dialEngine(t, ts)
	b.connect("/game", "")
	a.send(`42/game,1["join"]`)
	if got := a.next(); got != `43/game,1[]` {
		t.Fatalf("join ack %q", got)
	}
	nsp.DisconnectRoom("table")
	if got := a.next(); got != `41/game,` {
		t.Fatalf("expected DISCONNECT, got %q", got)
	}
	if r := rec.wait(t); r != "server namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
	if nsp.RoomSize("table") != 0 || nsp.RoomSize("") != 1 {
		t.Fatalf("room sizes %d %d", nsp.RoomSize("table"), nsp.RoomSize(""))
	}
	// The Engine.IO connection stays open: the client can reconnect.
	a.connect("/game", "")
	if nsp.RoomSize("") != 2 {
		t.Fatalf("RoomSize = %d", nsp.RoomSize(""))
	}
	b.expectSilence(50 * time.Millisecond)
}

func TestMultiplexedNamespaces(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	recA, recB := newRecorder(), newRecorder()
	for name, rec := range map[string]*recorder{"/a": recA, "/b": recB} {
		nsp := srv.Of(name)
		nsp.OnDisconnect(rec.onDisconnect)
		nsp.On("who", func(s *Socket, ev *Event) { ev.Ack(s.Namespace()) })
	}
	c, _ := dialEngine(t, ts)
	sidA := c.connect("/a", "")
	sidB := c.connect("/b", `{"x":1}`)
	if sidA == sidB {
		t.Fatal("same socket id for two namespaces")
	}
	c.send(`42/a,1["who"]`)
	c.send(`42/b,2["who"]`)
	if got := c.next(); got != `43/a,1["/a"]` {
		t.Fatalf("got %q", got)
	}
	if got := c.next(); got != `43/b,2["/b"]` {
		t.Fatalf("got %q", got)
	}
	// Connecting twice to the same namespace is a protocol violation, so
	// test it last; first disconnect /a only.
	c.send(`41/a,`)
	if r := recA.wait(t); r != "client namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
	c.send(`42/b,3["who"]`)
	if got := c.next(); got != `43/b,3["/b"]` {
		t.Fatalf("got %q", got)
	}
	c.send(`42/a,4["who"]`) // ignored: /a is no longer connected
	c.send(`42/b,5["who"]`)
	if got := c.next(); got != `43/b,5["/b"]` {
		t.Fatalf("got %q", got)
	}
	c.send(`40/b,`)
	c.expectClosed()
	if r := recB.wait(t); r != "parse error" {
		t.Fatalf("reason %q", r)
	}
	if got := recA.all(); len(got) != 1 {
		t.Fatalf("OnDisconnect(/a) called %d times", len(got))
	}
}

func TestPingTimeout(t *testing.T) {
	// The client answers the pings that arrive while it connects, so the
	// timeout only needs to be long enough for a loaded machine to do that.
	const interval, timeout = 100 * time.Millisecond, time.Second
	srv, ts := newTestServer(t, Config{PingInterval: interval, PingTimeout: timeout})
	rec := newRecorder()
	srv.Of("/").OnDisconnect(rec.onDisconnect)
	start := time.Now()
	c, _ := connectNamespace(t, ts, "/")
	// Do not answer the ping.
	msgs := c.expectClosed()
	if len(msgs) == 0 || msgs[0] != "2" {
		t.Fatalf("messages before close %q", msgs)
	}
	if r := rec.wait(t); r != "ping timeout" {
		t.Fatalf("reason %q", r)
	}
	// No sooner than a ping interval and a ping timeout after the handshake.
	if d := time.Since(start); d < interval+timeout {
		t.Fatalf("closed too early: %v", d)
	}
	waitFor(t, "ConnCount 0", func() bool { return srv.ConnCount() == 0 })

	// Polling: the session is gone after interval+timeout without pong.
	p := newPollClient(t, ts)
	waitFor(t, "polling session closed", func() bool { return srv.ConnCount() == 0 })
	if status, _ := p.get(); status != 400 {
		t.Fatalf("GET after ping timeout: %d", status)
	}
}

func TestMalformedPackets(t *testing.T) {
	bad := []struct {
		name string
		msgs []string
	}{
		{"unknown engine type", []string{"abc"}},
		{"empty engine packet", []string{""}},
		{"unknown socket type", []string{"4abc"}},
		{"event object", []string{"42{}"}},
		{"invalid ack id", []string{`42abc["message-with-ack",1]`}},
		{"first arg not string", []string{`42[1,2]`}},
		{"bad json", []string{`42["a",`}},
		{"reserved event", []string{`42["disconnect"]`}},
		{"too many attachments", []string{`4511-["a"]`}},
		{"text while waiting for binary", []string{`451-["a",{"_placeholder":true,"num":0}]`, `42["a"]`}},
		{"connect error from client", []string{`44{"message":"x"}`}},
		{"duplicate connect", []string{"40"}},
		{"client ping", []string{"2"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			srv, ts := newTestServer(t, Config{})
			rec := newRecorder()
			srv.Of("/").OnDisconnect(rec.onDisconnect)
			c, _ := connectNamespace(t, ts, "/")
			for _, m := range tt.msgs {
				c.send(m)
			}
			c.expectClosed()
			want := "parse error"
			if tt.name == "client ping" {
				want = "transport error"
			}
			if r := rec.wait(t); r != want {
				t.Fatalf("reason %q, want %q", r, want)
			}
			// The server is unharmed.
			c2, _ := connectNamespace(t, ts, "/")
			c2.send("41")
			waitFor(t, "ConnCount", func() bool { return srv.ConnCount() == 1 })
		})
	}
	t.Run("unexpected binary", func(t *testing.T) {
		srv, ts := newTestServer(t, Config{})
		rec := newRecorder()
		srv.Of("/").OnDisconnect(rec.onDisconnect)
		c, _ := connectNamespace(t, ts, "/")
		c.sendBinary([]byte{1, 2, 3})
		c.expectClosed()
		if r := rec.wait(t); r != "parse error" {
			t.Fatalf("reason %q", r)
		}
	})
	t.Run("polling", func(t *testing.T) {
		srv, ts := newTestServer(t, Config{})
		rec := newRecorder()
		srv.Of("/").OnDisconnect(rec.onDisconnect)
		p := newPollClient(t, ts)
		p.mustPost("40")
		p.nextPackets()
		if status, _ := p.post(`42{}`); status != 400 {
			t.Fatalf("POST malformed: %d", status)
		}
		if r := rec.wait(t); r != "parse error" {
			t.Fatalf("reason %q", r)
		}
		if status, _ := p.get(); status != 400 {
			t.Fatalf("GET after close: %d", status)
		}
		p2 := newPollClient(t, ts)
		if status, _ := p2.post("abc"); status != 400 {
			t.Fatalf("POST abc: %d", status)
		}
		if status, _ := p2.get(); status != 400 {
			t.Fatalf("GET after close: %d", status)
		}
		newPollClient(t, ts).mustPost("40")
	})
}

func TestBinaryEvents(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	got := make(chan *Event, 4)
	srv.Of("/").On("upload", func(s *Socket, ev *Event) {
		got <- ev
		if ev.Ack != nil {
			ev.Ack(len(ev.Attachments))
		}
	})
	srv.Of("/").On("echo", func(s *Socket, ev *Event) {
		args := make([]any, len(ev.Args))
		for i, a := range ev.Args {
			if b, ok := ev.Attachment(i); ok {
				args[i] = b
			} else {
				args[i] = a
			}
		}
		if ev.Ack != nil {
			ev.Ack(args...)
		} else {
			s.Emit("echo-back", args...)
		}
	})
	c, _ := connectNamespace(t, ts, "/")
	c.send(`452-["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.sendBinary([]byte{4, 5, 6})
	ev := <-got
	if !reflect.DeepEqual(ev.Attachments, [][]byte{{1, 2, 3}, {4, 5, 6}}) || len(ev.Args) != 2 {
		t.Fatalf("event %+v", ev)
	}
	c.send(`451-9["upload",{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{7})
	if m := c.next(); m != `439[1]` {
		t.Fatalf("ack %q", m)
	}
	<-got

	// Binary attachments sent by the server: binary frames on WebSocket.
	c.send(`452-["echo",{"_placeholder":true,"num":0},"x",{"_placeholder":true,"num":1}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.sendBinary([]byte{4, 5, 6})
	want := []string{`452-["echo-back",{"_placeholder":true,"num":0},"x",{"_placeholder":true,"num":1}]`, "\x01\x02\x03", "\x04\x05\x06"}
	for i, w := range want {
		msg, op, err := c.readMsg(testTimeout)
		if err != nil || msg != w || (i > 0) != (op == ws.OpBinary) {
			t.Fatalf("packet %d: %q (op %v, err %v), want %q", i, msg, op, err, w)
		}
	}
	c.send(`451-5["echo",{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{7})
	if msg := c.next(); msg != `461-5[{"_placeholder":true,"num":0}]` {
		t.Fatalf("binary ack %q", msg)
	}
	if msg, op, _ := c.readMsg(testTimeout); msg != "\x07" || op != ws.OpBinary {
		t.Fatalf("binary ack attachment %q", msg)
	}

	p := newPollClient(t, ts)
	p.mustPost("40")
	p.nextPackets()
	p.mustPost(`451-["upload",{"_placeholder":true,"num":0}]` + "\x1ebAQIDBA==")
	ev = <-got
	if !reflect.DeepEqual(ev.Attachments, [][]byte{{1, 2, 3, 4}}) {
		t.Fatalf("polling attachments %v", ev.Attachments)
	}
	// Binary attachments sent by the server: base64 packets on polling.
	p.mustPost(`451-["echo",{"_placeholder":true,"num":0}]` + "\x1ebAQIDBA==")
	if got := p.nextPackets(); !reflect.DeepEqual(got, []string{`451-["echo-back",{"_placeholder":true,"num":0}]`, "bAQIDBA=="}) {
		t.Fatalf("polling binary emit %q", got)
	}
}

func TestHandlerPanic(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	rec := newRecorder()
	srv.Of("/").OnDisconnect(rec.onDisconnect)
	srv.Of("/").On("boom", func(s *Socket, ev *Event) { panic("boom") })
	srv.Of("/").On("ok", func(s *Socket, ev *Event) { ev.Ack("fine") })
	c, _ := connectNamespace(t, ts, "/")
	c.send(`42["boom"]`)
	if got := c.next(); got != "41" {
		t.Fatalf("expected DISCONNECT, got %q", got)
	}
	if r := rec.wait(t); r != "server namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
	c.connect("/", "")
	c.send(`421["ok"]`)
	if got := c.next(); got != `431["fine"]` {
		t.Fatalf("got %q", got)
	}
}

func TestServerDisconnectAndEmitWithAck(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	rec := newRecorder()
	var sock atomic.Pointer[Socket]
	srv.Of("/").OnConnect(func(ctx context.Context, s *Socket, _ json.RawMessage) error {
		sock.Store(s)
		return nil
	})
	srv.Of("/").OnDisconnect(rec.onDisconnect)
	c, _ := connectNamespace(t, ts, "/")
	s := sock.Load()
	answer := make(chan []json.RawMessage, 1)
	if err := s.EmitWithAck("question", func(args []json.RawMessage) { answer <- args }, "q"); err != nil {
		t.Fatal(err)
	}
	if got := c.next(); got != `420["question","q"]` {
		t.Fatalf("got %q", got)
	}
	c.send(`430["answer",42]`)
	if args := <-answer; len(args) != 2 || string(args[1]) != "42" {
		t.Fatalf("ack args %q", args)
	}
	s.Disconnect()
	if got := c.next(); got != "41" {
		t.Fatalf("got %q", got)
	}
	if r := rec.wait(t); r != "server namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
	if err := s.Emit("late"); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Emit after disconnect: %v", err)
	}
	if s.Context().Err() == nil {
		t.Fatal("context not cancelled")
	}
	s.Disconnect() // no-op
	if got := rec.all(); len(got) != 1 {
		t.Fatalf("OnDisconnect called %d times", len(got))
	}
}

func TestClientClose(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	rec := newRecorder()
	srv.Of("/").OnDisconnect(rec.onDisconnect)

	c, _ := connectNamespace(t, ts, "/")
	c.send("1")
	c.expectClosed()
	if r := rec.wait(t); r != "transport close" {
		t.Fatalf("reason %q", r)
	}

	c, _ = connectNamespace(t, ts, "/")
	c.conn.Close()
	if r := rec.wait(t); r != "transport close" {
		t.Fatalf("reason %q", r)
	}

	// Polling: a close packet releases the pending GET with a noop.
	p := newPollClient(t, ts)
	pending := make(chan string, 1)
	go func() {
		resp, err := doRequest("GET", p.url(), "", nil)
		if err != nil {
			pending <- err.Error()
			return
		}
		buf := make([]byte, 16)
		n, _ := resp.Body.Read(buf)
		pending <- string(buf[:n])
	}()
	p.waitGetPending(srv)
	p.mustPost("1")
	if got := <-pending; got != "6" {
		t.Fatalf("pending GET got %q", got)
	}
	if status, _ := p.get(); status != 400 {
		t.Fatalf("GET after close: %d", status)
	}
	waitFor(t, "ConnCount 0", func() bool { return srv.ConnCount() == 0 })
}

func TestPollingOverlap(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	p := newPollClient(t, ts)
	first := make(chan string, 1)
	go func() {
		resp, err := doRequest("GET", p.url(), "", nil)
		if err != nil {
			first <- err.Error()
			return
		}
		buf := make([]byte, 16)
		n, _ := resp.Body.Read(buf)
		first <- string(buf[:n])
	}()
	p.waitGetPending(srv)
	if status, _ := p.get(); status != 400 {
		t.Fatalf("overlapping GET: %d", status)
	}
	if got := <-first; got != "1" {
		t.Fatalf("first GET got %q", got)
	}
	if status, _ := p.get(); status != 400 {
		t.Fatalf("GET after overlap: %d", status)
	}

	// A cancelled GET closes the session.
	p = newPollClient(t, ts)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", p.url(), nil)
	done := make(chan struct{})
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		close(done)
	}()
	p.waitGetPending(srv)
	cancel()
	<-done
	waitFor(t, "session closed", func() bool {
		status, _ := p.get()
		return status == 400
	})
}

func TestWebSocketFrames(t *testing.T) {
	srv, ts := newTestServer(t, Config{MaxPayload: 1000})
	srv.Of("/").On("echo", func(s *Socket, ev *Event) { ev.Ack(ev.Args[0]) })
	c, _ := connectNamespace(t, ts, "/")

	// Fragmented text message with a ping control frame in the middle.
	c.mu.Lock()
	frames := []ws.Frame{
		ws.NewFrame(ws.OpText, false, []byte(`421["ec`)),
		ws.NewPingFrame([]byte("hi")),
		ws.NewFrame(ws.OpContinuation, false, []byte(`ho","frag`)),
		ws.NewFrame(ws.OpContinuation, true, []byte(`mented"]`)),
	}
	for _, f := range frames {
		if err := ws.WriteFrame(c.conn, ws.MaskFrameInPlace(f)); err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Unlock()
	// The pong is consumed by the control handler of the client reader.
	if got := c.next(); got != `431["fragmented"]` {
		t.Fatalf("got %q", got)
	}

	// A message larger than MaxPayload closes the connection.
	c.send(`42["echo","` + strings.Repeat("x", 1000) + `"]`)
	c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	var closeCode ws.StatusCode
	for {
		h, err := ws.ReadHeader(c.rw)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		payload := make([]byte, h.Length)
		if _, err := readFull(c.rw, payload); err != nil {
			t.Fatal(err)
		}
		if h.OpCode == ws.OpClose {
			closeCode, _ = ws.ParseCloseFrameData(payload)
			break
		}
	}
	if closeCode != ws.StatusMessageTooBig {
		t.Fatalf("close code %d", closeCode)
	}

	// Unmasked client frames violate RFC 6455.
	c2, _ := connectNamespace(t, ts, "/")
	c2.mu.Lock()
	ws.WriteFrame(c2.conn, ws.NewTextFrame([]byte(`42["echo",1]`)))
	c2.mu.Unlock()
	c2.expectClosed()
}

func readFull(r interface{ Read([]byte) (int, error) }, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestPollingMaxPayload(t *testing.T) {
	_, ts := newTestServer(t, Config{MaxPayload: 100})
	p := newPollClient(t, ts)
	if status, _ := p.post("4" + strings.Repeat("x", 200)); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", status)
	}
	if status, _ := p.get(); status != 400 {
		t.Fatalf("GET after too large: %d", status)
	}
}

func TestShutdown(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	rec := newRecorder()
	srv.Of("/").OnDisconnect(rec.onDisconnect)
	srv.Of("/x").OnDisconnect(rec.onDisconnect)

	wsc, _ := connectNamespace(t, ts, "/")
	wsc.connect("/x", "")
	p := newPollClient(t, ts)
	p.mustPost("40")
	p.nextPackets()

	pending := make(chan string, 1)
	go func() {
		resp, err := doRequest("GET", p.url(), "", nil)
		if err != nil {
			pending <- err.Error()
			return
		}
		buf := make([]byte, 64)
		n, _ := resp.Body.Read(buf)
		pending <- string(buf[:n])
	}()
	p.waitGetPending(srv)
	if srv.ConnCount() != 2 {
		t.Fatalf("ConnCount = %d", srv.ConnCount())
	}

	shutdownErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		shutdownErr <- srv.Shutdown(ctx)
	}()

	// Only the Engine.IO close packet: no Socket.IO DISCONNECT, so that
	// clients reconnect by themselves.
	if msgs := wsc.expectClosed(); !reflect.DeepEqual(msgs, []string{"1"}) {
		t.Fatalf("websocket client got %q", msgs)
	}
	if got := <-pending; got != "1" {
		t.Fatalf("polling client got %q", got)
	}
	if err := <-shutdownErr; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 3 {
		if r := rec.wait(t); r != "server shutting down" {
			t.Fatalf("reason %q", r)
		}
	}
	if srv.ConnCount() != 0 {
		t.Fatalf("ConnCount = %d", srv.ConnCount())
	}
	if status, body := httpGet(t, eioURL(ts, "transport=polling"), nil); status != http.StatusServiceUnavailable {
		t.Fatalf("handshake after shutdown: %d %q", status, body)
	}
	if _, err := tryDialWS(eioURL(ts, "transport=websocket"), nil); err == nil {
		t.Fatal("websocket accepted after shutdown")
	}
}

func TestShutdownLingeringPoll(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	srv.Of("/")
	p := newPollClient(t, ts)
	p.mustPost("40")
	if got := p.nextPackets(); !strings.HasPrefix(got[0], "40{") {
		t.Fatalf("connect: %q", got)
	}
	c := srv.lookup(p.sid)
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	waitFor(t, "session lingering", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.lingering
	})
	// No GET was pending: the next one fetches the close packet.
	if got := p.getPackets(); !reflect.DeepEqual(got, []string{"1"}) {
		t.Fatalf("got %q", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if status, _ := p.get(); status != 400 {
		t.Fatalf("GET after shutdown: %d", status)
	}
}

func TestCORS(t *testing.T) {
	_, ts := newTestServer(t, Config{CheckOrigin: func(r *http.Request) bool {
		return r.Header.Get("Origin") == "https://good.example"
	}})
	url := eioURL(ts, "transport=polling")

	resp, err := doRequest("GET", url, "", http.Header{"Origin": {"https://good.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://good.example" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("allowed origin: %d %v", resp.StatusCode, resp.Header)
	}

	resp, err = doRequest("OPTIONS", url, "", http.Header{
		"Origin":                         {"https://good.example"},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"content-type, x-custom"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://good.example" ||
		h.Get("Access-Control-Allow-Credentials") != "true" || h.Get("Access-Control-Allow-Headers") != "content-type, x-custom" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}

	status, body := httpGet(t, url, http.Header{"Origin": {"https://evil.example"}})
	if status != http.StatusForbidden || body != `{"code":4,"message":"Forbidden"}` {
		t.Fatalf("disallowed origin: %d %q", status, body)
	}
	if _, err := tryDialWS(eioURL(ts, "transport=websocket"), http.Header{"Origin": {"https://evil.example"}}); err == nil {
		t.Fatal("websocket with disallowed origin accepted")
	}
	// No Origin header (non-browser clients): allowed, no CORS headers.
	resp, err = doRequest("GET", url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no origin: %d %v", resp.StatusCode, resp.Header)
	}
	c, err := tryDialWS(eioURL(ts, "transport=websocket"), http.Header{"Origin": {"https://good.example"}})
	if err != nil {
		t.Fatalf("websocket with allowed origin: %v", err)
	}
	c.conn.Close()
}

// The connect timeout runs on a real timer. (Sessions that connect in time
// are tested with timers fired by the test, in
// TestSessionsWithoutNamespaceAreClosed.)
func TestConnectTimeout(t *testing.T) {
	srv, ts := newTestServer(t, Config{ConnectTimeout: 100 * time.Millisecond})
	srv.Of("/")
	c, _ := dialEngine(t, ts)
	if got := c.expectClosed(); !reflect.DeepEqual(got, []string{"1"}) {
		t.Fatalf("got %q, want the close packet", got)
	}
	waitFor(t, "ConnCount 0", func() bool { return srv.ConnCount() == 0 })
}

func TestHandlersSequentialPerConnection(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	var running, maxRunning atomic.Int32
	var mu sync.Mutex
	var order []int
	srv.Of("/").On("work", func(s *Socket, ev *Event) {
		n := running.Add(1)
		if n > maxRunning.Load() {
			maxRunning.Store(n)
		}
		var i int
		ev.Arg(0, &i)
		for range 100 {
			runtime.Gosched() // leave room for another handler to overlap
		}
		mu.Lock()
		order = append(order, i)
		mu.Unlock()
		running.Add(-1)
		if i == 19 {
			ev.Ack()
		}
	})
	c, _ := connectNamespace(t, ts, "/")
	for i := range 20 {
		id := ""
		if i == 19 {
			id = "1"
		}
		c.send(`42` + id + `["work",` + itoa(i) + `]`)
	}
	if got := c.next(); got != "431[]" {
		t.Fatalf("got %q", got)
	}
	if maxRunning.Load() != 1 {
		t.Fatalf("handlers ran concurrently")
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("order %v", order)
		}
	}
	// A slow handler does not block other connections.
	block := make(chan struct{})
	srv.Of("/").On("block", func(s *Socket, ev *Event) { <-block })
	c.send(`42["block"]`)
	c2, _ := connectNamespace(t, ts, "/")
	c2.send(`421["work",19]`)
	if got := c2.next(); got != "431[]" {
		t.Fatalf("got %q", got)
	}
	close(block)
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// Ensure wsutil is referenced (used by the helpers through ReadServerData).
var _ = wsutil.ClosedError{}

func TestShutdownDuringUpgrade(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	rec := newRecorder()
	srv.Of("/").OnDisconnect(rec.onDisconnect)
	p := newPollClient(t, ts)
	p.mustPost("40")
	p.nextPackets()
	c := dialWS(t, eioURL(ts, "transport=websocket&sid="+p.sid))
	c.send("2probe")
	if got := c.read(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	// The client paused polling and is about to send the upgrade packet
	// when the server shuts down.
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	if r := rec.wait(t); r != "server shutting down" {
		t.Fatalf("reason %q", r)
	}
	c.send("5")
	if got := c.expectClosed(); !reflect.DeepEqual(got, []string{"1"}) {
		t.Fatalf("websocket got %q", got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentStress(t *testing.T) {
	// Frequent pings, and a timeout that a loaded machine never misses.
	srv, ts := newTestServer(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: 10 * time.Second})
	nsp := srv.Of("/")
	var connects, disconnects atomic.Int32
	nsp.OnConnect(func(ctx context.Context, s *Socket, _ json.RawMessage) error {
		connects.Add(1)
		s.Join("all")
		return s.Emit("hello")
	})
	nsp.OnDisconnect(func(s *Socket, reason string) { disconnects.Add(1) })
	nsp.On("join", func(s *Socket, ev *Event) {
		var r string
		ev.Arg(0, &r)
		s.Join(r)
		nsp.Emit(r, "joined", s.ID())
	})
	nsp.On("leave", func(s *Socket, ev *Event) {
		var r string
		ev.Arg(0, &r)
		s.Leave(r)
		if ev.Ack != nil {
			ev.Ack(s.Rooms())
		}
	})
	nsp.On("kick", func(s *Socket, ev *Event) { nsp.DisconnectRoom("kick") })

	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			nsp.Emit("all", "tick", i)
			nsp.RoomSize("r1")
		}
	}()

	var clients sync.WaitGroup
	for i := range 12 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			cl, err := tryDialWS(eioURL(ts, "transport=websocket"), nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer cl.conn.Close()
			// Answer pings and drain everything in the background.
			go func() {
				for {
					msg, _, err := cl.readMsg(testTimeout)
					if err != nil {
						return
					}
					if msg == "2" {
						cl.write(ws.OpText, []byte("3"))
					}
				}
			}()
			cl.write(ws.OpText, []byte("40"))
			for j := range 30 {
				room := []string{"r1", "r2", "kick"}[(i+j)%3]
				cl.write(ws.OpText, []byte(`42["join","`+room+`"]`))
				cl.write(ws.OpText, []byte(`42`+itoa(j)+`["leave","`+room+`"]`))
				if j%10 == 9 && i%4 == 0 {
					cl.write(ws.OpText, []byte(`42["kick"]`))
					cl.write(ws.OpText, []byte("40"))
				}
			}
			if i%3 == 0 {
				cl.write(ws.OpText, []byte("41"))
			}
		}()
	}
	// Polling clients keep a GET pending, as real clients do, until the
	// server closes their session.
	var pollers sync.WaitGroup
	for i := range 4 {
		p := newPollClient(t, ts)
		p.mustPost("40")
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			for {
				resp, err := doRequest("GET", p.url(), "", nil)
				if err != nil || resp.StatusCode != 200 {
					return
				}
				buf := make([]byte, 1<<16)
				n, _ := resp.Body.Read(buf)
				for _, pkt := range strings.Split(string(buf[:n]), "\x1e") {
					if pkt == "2" {
						doRequest("POST", p.url(), "3", nil)
					}
				}
			}
		}()
		for j := range 10 {
			doRequest("POST", p.url(), `42["join","r`+itoa(i%2)+`"]`+"\x1e"+`42`+itoa(j)+`["leave","r1"]`, nil)
		}
	}
	clients.Wait()
	close(stop)
	bg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	pollers.Wait()
	waitFor(t, "all disconnects", func() bool { return disconnects.Load() == connects.Load() })
	if srv.ConnCount() != 0 || nsp.RoomSize("") != 0 || nsp.RoomSize("all") != 0 {
		t.Fatalf("leftovers: conns %d sockets %d", srv.ConnCount(), nsp.RoomSize(""))
	}
}

func TestConnectHandlerOutlivesConnection(t *testing.T) {
	srv, ts := newTestServer(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond})
	returned := make(chan struct{})
	rec := newRecorder()
	srv.Of("/").OnDisconnect(rec.onDisconnect)
	srv.Of("/").OnConnect(func(ctx context.Context, s *Socket, _ json.RawMessage) error {
		defer close(returned)
		// Blocks the connection's handlers: the heartbeat times out and
		// the socket's context is cancelled.
		<-ctx.Done()
		if err := s.Emit("late"); err == nil || !errors.Is(err, ErrDisconnected) {
			t.Errorf("Emit after close: %v", err)
		}
		return errors.New("too late")
	})
	c, _ := dialEngine(t, ts)
	c.send("40")
	select {
	case <-returned:
	case <-time.After(testTimeout):
		t.Fatal("connect handler still blocked")
	}
	c.expectClosed()
	waitFor(t, "ConnCount 0", func() bool { return srv.ConnCount() == 0 })
	if got := rec.all(); len(got) != 0 {
		t.Fatalf("OnDisconnect called for a socket that never connected: %q", got)
	}
}
