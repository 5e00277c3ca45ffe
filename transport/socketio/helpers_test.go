package socketio

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// testTimeout bounds every wait of the tests: generous, so that a loaded
// machine only makes them slower.
const testTimeout = 20 * time.Second

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newTestServer starts srv behind httptest under /socket.io/.
func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv := NewServer(cfg)
	return srv, serve(t, srv)
}

// serve starts srv behind httptest under /socket.io/.
func serve(t *testing.T, srv *Server) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		// Idle test polling clients never fetch their last packets: do not
		// wait for them.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
	})
	return ts
}

func eioURL(ts *httptest.Server, query string) string {
	return ts.URL + "/socket.io/?EIO=4&" + query
}

// ---- polling client ----

type pollClient struct {
	t    *testing.T
	ts   *httptest.Server
	sid  string
	open map[string]any
}

func newPollClient(t *testing.T, ts *httptest.Server) *pollClient {
	t.Helper()
	p := &pollClient{t: t, ts: ts}
	status, body := httpGet(t, eioURL(ts, "transport=polling"), nil)
	if status != http.StatusOK || !strings.HasPrefix(body, "0") {
		t.Fatalf("handshake: status %d body %q", status, body)
	}
	if err := json.Unmarshal([]byte(body[1:]), &p.open); err != nil {
		t.Fatalf("handshake body %q: %v", body, err)
	}
	p.sid, _ = p.open["sid"].(string)
	if p.sid == "" {
		t.Fatalf("handshake without sid: %q", body)
	}
	return p
}

func (p *pollClient) url() string {
	return eioURL(p.ts, "transport=polling&sid="+p.sid)
}

// waitGetPending waits until a polling GET of the session is pending on
// the server.
func (p *pollClient) waitGetPending(srv *Server) {
	p.t.Helper()
	waitFor(p.t, "pending polling GET", func() bool {
		c := srv.lookup(p.sid)
		if c == nil {
			return false
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.getActive
	})
}

func (p *pollClient) get() (int, string) {
	p.t.Helper()
	return httpGet(p.t, p.url(), nil)
}

// getPackets polls and splits the payload.
func (p *pollClient) getPackets() []string {
	p.t.Helper()
	status, body := p.get()
	if status != http.StatusOK {
		p.t.Fatalf("GET: status %d body %q", status, body)
	}
	return strings.Split(body, "\x1e")
}

// nextPacket polls until a packet other than a ping arrives (answering pings).
func (p *pollClient) nextPackets() []string {
	p.t.Helper()
	for {
		var out []string
		for _, pkt := range p.getPackets() {
			if pkt == "2" {
				p.post("3")
				continue
			}
			out = append(out, pkt)
		}
		if len(out) > 0 {
			return out
		}
	}
}

func (p *pollClient) post(body string) (int, string) {
	p.t.Helper()
	return httpPost(p.t, p.url(), body)
}

func (p *pollClient) mustPost(body string) {
	p.t.Helper()
	if status, resp := p.post(body); status != http.StatusOK || resp != "ok" {
		p.t.Fatalf("POST %q: status %d body %q", body, status, resp)
	}
}

func httpGet(t *testing.T, url string, header http.Header) (int, string) {
	t.Helper()
	return httpDo(t, http.MethodGet, url, "", header)
}

func httpPost(t *testing.T, url, body string) (int, string) {
	t.Helper()
	return httpDo(t, http.MethodPost, url, body, http.Header{"Content-Type": {"text/plain;charset=UTF-8"}})
}

func httpDo(t *testing.T, method, url, body string, header http.Header) (int, string) {
	t.Helper()
	resp, err := doRequest(method, url, body, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

func doRequest(method, url, body string, header http.Header) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(b)))
	return resp, err
}

// ---- websocket client ----

type wsClient struct {
	t    *testing.T
	conn net.Conn
	rw   io.ReadWriter
	mu   sync.Mutex // serializes writes (see lockedWriter)
}

func dialWS(t *testing.T, url string) *wsClient {
	t.Helper()
	c, err := tryDialWS(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.t = t
	t.Cleanup(func() { c.conn.Close() })
	return c
}

func tryDialWS(url string, header http.Header) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	d := ws.Dialer{}
	if header != nil {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	conn, br, _, err := d.Dial(ctx, strings.Replace(url, "http://", "ws://", 1))
	if err != nil {
		return nil, err
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	c := &wsClient{conn: conn}
	c.rw = struct {
		io.Reader
		io.Writer
	}{bufio.NewReader(r), lockedWriter{c}}
	return c, nil
}

// lockedWriter serializes the control frames written by the reader (pong,
// close replies) with the client's own writes.
type lockedWriter struct{ c *wsClient }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.conn.Write(p)
}

// dialEngine opens a WebSocket-only Engine.IO session and consumes the open packet.
func dialEngine(t *testing.T, ts *httptest.Server) (*wsClient, map[string]any) {
	t.Helper()
	c := dialWS(t, eioURL(ts, "transport=websocket"))
	msg := c.read()
	if !strings.HasPrefix(msg, "0") {
		t.Fatalf("expected open packet, got %q", msg)
	}
	var open map[string]any
	if err := json.Unmarshal([]byte(msg[1:]), &open); err != nil {
		t.Fatalf("open packet %q: %v", msg, err)
	}
	return c, open
}

// connectNamespace dials and connects to nsp ("/" or "/x"), returning the socket id.
func connectNamespace(t *testing.T, ts *httptest.Server, nsp string) (*wsClient, string) {
	t.Helper()
	c, _ := dialEngine(t, ts)
	return c, c.connect(nsp, "")
}

func (c *wsClient) connect(nsp, auth string) string {
	c.t.Helper()
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix + auth)
	msg := c.next()
	if !strings.HasPrefix(msg, prefix+"{") {
		c.t.Fatalf("connect %s: got %q", nsp, msg)
	}
	var v struct{ SID string }
	if err := json.Unmarshal([]byte(msg[len(prefix):]), &v); err != nil || v.SID == "" {
		c.t.Fatalf("connect %s: bad payload %q", nsp, msg)
	}
	return v.SID
}

func (c *wsClient) send(msg string) {
	c.t.Helper()
	if err := c.write(ws.OpText, []byte(msg)); err != nil {
		c.t.Fatalf("send %q: %v", msg, err)
	}
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	if err := c.write(ws.OpBinary, b); err != nil {
		c.t.Fatalf("send binary: %v", err)
	}
}

func (c *wsClient) write(op ws.OpCode, b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(testTimeout))
	return wsutil.WriteClientMessage(c.conn, op, b)
}

// readMsg reads the next data message.
func (c *wsClient) readMsg(timeout time.Duration) (string, ws.OpCode, error) {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	b, op, err := wsutil.ReadServerData(c.rw)
	return string(b), op, err
}

// read returns the next data message or fails the test.
func (c *wsClient) read() string {
	c.t.Helper()
	msg, _, err := c.readMsg(testTimeout)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return msg
}

// next returns the next message that is not an Engine.IO ping, answering
// pings with pongs.
func (c *wsClient) next() string {
	c.t.Helper()
	for {
		msg := c.read()
		if msg == "2" {
			c.send("3")
			continue
		}
		return msg
	}
}

// expectClosed reads until the server closes the connection, returning the
// data messages received meanwhile.
func (c *wsClient) expectClosed() []string {
	c.t.Helper()
	var got []string
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		msg, _, err := c.readMsg(time.Until(deadline))
		if err != nil {
			var closed wsutil.ClosedError
			if errors.As(err, &closed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isConnReset(err) {
				return got
			}
			c.t.Fatalf("expected close, got error %v (messages %q)", err, got)
		}
		got = append(got, msg)
	}
	c.t.Fatalf("connection not closed; messages %q", got)
	return nil
}

func isConnReset(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "use of closed") || strings.Contains(msg, "broken pipe")
}

// expectSilence asserts that no data message (other than pings) arrives within d.
func (c *wsClient) expectSilence(d time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg, _, err := c.readMsg(time.Until(deadline))
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return
			}
			c.t.Fatalf("expected silence, got error %v", err)
		}
		if msg == "2" {
			c.send("3")
			continue
		}
		c.t.Fatalf("expected silence, got %q", msg)
	}
}

// fakeTimers replaces Server.afterFunc: its timers fire only when told to.
type fakeTimers struct {
	mu      sync.Mutex
	pending []*fakeTimer
}

type fakeTimer struct {
	ft   *fakeTimers
	f    func()
	done bool // stopped or fired
}

func (t *fakeTimer) Stop() bool {
	t.ft.mu.Lock()
	defer t.ft.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// install makes srv use the fake timers; call it before srv serves.
func (ft *fakeTimers) install(srv *Server) {
	srv.afterFunc = func(_ time.Duration, f func()) stopper {
		ft.mu.Lock()
		defer ft.mu.Unlock()
		t := &fakeTimer{ft: ft, f: f}
		ft.pending = append(ft.pending, t)
		return t
	}
}

// fire runs every timer that was neither stopped nor fired yet.
func (ft *fakeTimers) fire() {
	ft.mu.Lock()
	var due []*fakeTimer
	for _, t := range ft.pending {
		if !t.done {
			t.done = true
			due = append(due, t)
		}
	}
	ft.pending = nil
	ft.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder collects disconnect reasons.
type recorder struct {
	mu      sync.Mutex
	reasons []string
	ch      chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 100)} }

func (r *recorder) onDisconnect(s *Socket, reason string) {
	r.mu.Lock()
	r.reasons = append(r.reasons, reason)
	r.mu.Unlock()
	r.ch <- reason
}

func (r *recorder) wait(t *testing.T) string {
	t.Helper()
	select {
	case reason := <-r.ch:
		return reason
	case <-time.After(testTimeout):
		t.Fatalf("no disconnect")
		return ""
	}
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reasons...)
}
