package socketio

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The root namespace exists only when the application registers it.
func TestRootNamespaceNotServedUnlessRegistered(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	app := srv.Of("/app")
	if srv.Lookup("/") != nil || srv.Lookup("app") != app || srv.Lookup("/other") != nil {
		t.Fatal("Lookup")
	}
	c, _ := dialEngine(t, ts)
	c.send("40")
	if got := c.next(); got != `44{"message":"Invalid namespace"}` {
		t.Fatalf("CONNECT to an unregistered /: %q", got)
	}
	c.send(`40{"token":"x"}`)
	if got := c.next(); got != `44{"message":"Invalid namespace"}` {
		t.Fatalf("CONNECT to an unregistered / with auth: %q", got)
	}
	c.send("40/other,") // Lookup created nothing
	if got := c.next(); got != `44/other,{"message":"Invalid namespace"}` {
		t.Fatalf("CONNECT to an unregistered /other: %q", got)
	}
	// Once registered, it is served.
	root := srv.Of("/")
	if srv.Lookup("") != root {
		t.Fatal("Lookup after Of")
	}
	c.connect("/", "")
}

// Engine.IO sessions without a connected namespace socket are closed when
// their connect timeout fires: those that never send anything, those whose
// CONNECT was refused, and those whose last socket disconnected. Sessions
// with a connected socket stay. The timers are fired by the test.
func TestSessionsWithoutNamespaceAreClosed(t *testing.T) {
	srv := NewServer(Config{Logger: discardLogger()})
	var timers fakeTimers
	timers.install(srv)
	ts := serve(t, srv)
	app := srv.Of("/app")
	app.On("ping", func(s *Socket, ev *Event) { ev.Ack("pong") })
	private := srv.Of("/private")
	private.OnConnect(func(ctx context.Context, s *Socket, _ json.RawMessage) error {
		return &ConnectError{Message: "unauthorized"}
	})

	// Two sessions stay connected: one connected once, one that left /app
	// and joined it again.
	stay, _ := dialEngine(t, ts)
	stay.connect("/app", "")
	churn, _ := dialEngine(t, ts)
	churn.connect("/app", "")
	churn.send("41/app,")
	churn.connect("/app", "")

	const n = 40
	for i := range n {
		c, _ := dialEngine(t, ts)
		switch i % 4 {
		case 0: // CONNECT to the unregistered root namespace
			c.send("40")
			if got := c.next(); got != `44{"message":"Invalid namespace"}` {
				t.Fatalf("CONNECT /: %q", got)
			}
		case 1: // nothing at all
		case 2: // refused by the connect handler
			c.send("40/private,")
			if got := c.next(); got != `44/private,{"message":"unauthorized"}` {
				t.Fatalf("CONNECT /private: %q", got)
			}
		case 3: // connected, then left
			c.connect("/app", "")
			c.send("41/app,")
		}
	}
	for i := range 4 {
		p := newPollClient(t, ts)
		if i%2 == 0 {
			p.mustPost("40")
		}
	}
	// Firing again re-arms nothing for a session with a connected socket;
	// it catches the sessions whose DISCONNECT was handled after the
	// previous round.
	waitFor(t, "idle sessions closed", func() bool {
		timers.fire()
		return srv.ConnCount() == 2
	})
	for _, c := range []*wsClient{stay, churn} {
		c.send(`42/app,1["ping"]`)
		if got := c.next(); got != `43/app,1["pong"]` {
			t.Fatalf("connected session: %q", got)
		}
	}
	if srv.ConnCount() != 2 || app.RoomSize("") != 2 {
		t.Fatalf("ConnCount %d, sockets %d", srv.ConnCount(), app.RoomSize(""))
	}
	// The last socket of a session leaving starts the timeout again.
	stay.send("41/app,")
	waitFor(t, "session closed after its last socket left", func() bool {
		timers.fire()
		return srv.ConnCount() == 1
	})
	stay.expectClosed()
	churn.send(`42/app,2["ping"]`)
	if got := churn.next(); got != `43/app,2["pong"]` {
		t.Fatalf("connected session: %q", got)
	}
}

// heapInUse returns the live heap after garbage collection.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// An idle, unauthenticated session keeps neither its handshake headers nor
// the HTTP server's buffers: its heap cost stays small even when the
// handshake carried hundreds of KiB of headers.
func TestIdleSessionRetainsLittleMemory(t *testing.T) {
	srv, ts := newTestServer(t, Config{ConnectTimeout: time.Hour, Logger: discardLogger()})
	srv.Of("/app")
	big := strings.Repeat("a", 200<<10)
	header := http.Header{
		"Authorization": {"Bearer " + strings.Repeat("t", 3000)}, // kept
		"Cookie":        {big},                                   // over the cap: dropped
		"User-Agent":    {big},
		"X-Junk":        {big},
		"X-More-Junk":   {big[:100<<10], big[:100<<10]},
	}
	const n = 40
	clients := make([]*wsClient, 0, n)
	before := heapInUse()
	for range n {
		c, err := tryDialWS(eioURL(ts, "transport=websocket"), header)
		if err != nil {
			t.Fatal(err)
		}
		c.t = t
		t.Cleanup(func() { c.conn.Close() })
		if msg := c.read(); !strings.HasPrefix(msg, "0{") {
			t.Fatalf("open packet %q", msg)
		}
		c.send("40")
		if got := c.next(); got != `44{"message":"Invalid namespace"}` {
			t.Fatalf("CONNECT /: %q", got)
		}
		clients = append(clients, c)
	}
	if srv.ConnCount() != n {
		t.Fatalf("ConnCount = %d", srv.ConnCount())
	}
	after := heapInUse()
	runtime.KeepAlive(clients)
	var per int64
	if after > before {
		per = int64(after-before) / n
	}
	t.Logf("retained heap per idle session (client side included): %d bytes", per)
	if per > 64<<10 {
		t.Fatalf("each idle session retains %d bytes of heap", per)
	}
}

// Socket.Request keeps the method, URL, remote address and a fixed set of
// headers, each at most maxHeaderKept bytes.
func TestRequestKeepsFewHeaders(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	got := make(chan *http.Request, 1)
	srv.Of("/").OnConnect(func(ctx context.Context, s *Socket, _ json.RawMessage) error {
		got <- s.Request()
		return nil
	})
	long := strings.Repeat("c", maxHeaderKept+1)
	header := http.Header{
		"Authorization":   {"Bearer abc"},
		"Origin":          {"https://app.example"},
		"User-Agent":      {"test-agent"},
		"X-Forwarded-For": {"203.0.113.7, 10.0.0.1"},
		"X-Real-Ip":       {"203.0.113.7"},
		"Forwarded":       {"for=203.0.113.7"},
		"Cookie":          {long},
		"X-Test":          {"yes"},
	}
	c, err := tryDialWS(eioURL(ts, "transport=websocket&token=q"), header)
	if err != nil {
		t.Fatal(err)
	}
	c.t = t
	defer c.conn.Close()
	c.read()
	c.connect("/", "")
	r := <-got
	if r.Method != "GET" || r.URL.Query().Get("token") != "q" || r.URL.Query().Get("EIO") != "4" || r.RemoteAddr == "" || r.Host == "" {
		t.Fatalf("request %+v", r)
	}
	want := http.Header{
		"Authorization":   {"Bearer abc"},
		"Origin":          {"https://app.example"},
		"User-Agent":      {"test-agent"},
		"X-Forwarded-For": {"203.0.113.7, 10.0.0.1"},
		"X-Real-Ip":       {"203.0.113.7"},
		"Forwarded":       {"for=203.0.113.7"},
	}
	if len(r.Header) != len(want) {
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		t.Fatalf("headers %q, want those of %v", keys, want)
	}
	for k, v := range want {
		if strings.Join(r.Header[k], "|") != strings.Join(v, "|") {
			t.Fatalf("header %s = %q, want %q", k, r.Header[k], v)
		}
	}

	// A handshake whose URI is longer than maxURIKept is refused.
	status, _ := httpGet(t, eioURL(ts, "transport=polling&q="+strings.Repeat("x", maxURIKept)), nil)
	if status != http.StatusBadRequest {
		t.Fatalf("long handshake URI: status %d", status)
	}
	if _, err := tryDialWS(eioURL(ts, "transport=websocket&q="+strings.Repeat("x", maxURIKept)), nil); err == nil {
		t.Fatal("websocket handshake with a long URI accepted")
	}
	if srv.ConnCount() != 1 {
		t.Fatalf("ConnCount = %d", srv.ConnCount())
	}
}
