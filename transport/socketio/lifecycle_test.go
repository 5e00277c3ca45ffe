package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// pairing counts the lifecycle handlers of every socket of a namespace and
// records any OnDisconnect that is not paired with an OnConnected.
type pairing struct {
	mu           sync.Mutex
	connected    map[*Socket]int
	disconnected map[*Socket]int
	errs         []string
}

func newPairing() *pairing {
	return &pairing{connected: make(map[*Socket]int), disconnected: make(map[*Socket]int)}
}

func (p *pairing) onConnected(s *Socket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.connected[s]++
	if p.connected[s] > 1 {
		p.errs = append(p.errs, "OnConnected ran twice for "+s.ID())
	}
	if p.disconnected[s] > 0 {
		p.errs = append(p.errs, "OnConnected ran after OnDisconnect for "+s.ID())
	}
}

func (p *pairing) onDisconnect(s *Socket, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.disconnected[s]++
	if p.connected[s] != 1 {
		p.errs = append(p.errs, fmt.Sprintf("OnDisconnect (%s) for %s whose OnConnected ran %d times", reason, s.ID(), p.connected[s]))
	}
	if p.disconnected[s] > 1 {
		p.errs = append(p.errs, "OnDisconnect ran twice for "+s.ID())
	}
}

// totals returns the number of OnConnected and OnDisconnect calls.
func (p *pairing) totals() (connected, disconnected int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.connected {
		connected += n
	}
	for _, n := range p.disconnected {
		disconnected += n
	}
	return connected, disconnected
}

func (p *pairing) check(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.errs {
		t.Error(e)
	}
	for s, n := range p.connected {
		if p.disconnected[s] != n {
			t.Errorf("socket %s: OnConnected %d times, OnDisconnect %d times", s.ID(), n, p.disconnected[s])
		}
	}
}

// lcClient is one raw client of the lifecycle tests; its methods never
// fail the test, since the server is expected to drop it at any point.
type lcClient struct {
	ws *wsClient // WebSocket client, or nil for a polling one

	// Polling client: pendingGet starts a GET and returns once it is
	// pending on the server (or the session closed); cancelGet cancels it
	// and getDone is closed when it returned.
	pendingGet func()
	cancelGet  context.CancelFunc
	getDone    chan struct{}

	// connected is closed once OnConnected ran for the client's socket:
	// the client receiving CONNECT does not mean the server has decided
	// the connected step yet, so the "after" kill point waits for it.
	connected     chan struct{}
	connectedOnce sync.Once
}

func newLCClient() *lcClient { return &lcClient{connected: make(chan struct{})} }

func (cl *lcClient) markConnected() { cl.connectedOnce.Do(func() { close(cl.connected) }) }

// waitConnected waits for OnConnected of the client's socket.
func (cl *lcClient) waitConnected(t *testing.T) bool {
	select {
	case <-cl.connected:
		return true
	case <-time.After(testTimeout):
		t.Errorf("OnConnected did not run after the client received CONNECT")
		return false
	}
}

// Kill points: where the transport dies during the connect handshake.
const (
	killInConnect   = "in OnConnect"
	killAuthorized  = "after OnConnect accepted"
	killQueued      = "after CONNECT queued"
	killInConnected = "in OnConnected"
	killAfter       = "after the client received CONNECT"
)

// Kill methods: how the transport dies.
const (
	killWSClose      = "WebSocket closed"
	killGetCancel    = "polling GET cancelled"
	killPingTimeout  = "heartbeat timeout"
	killShutdownConn = "shutdown"
)

// lifecycleKill ends the transport of c with method and returns once the
// server saw it (except for a closed WebSocket, which the connection's
// reader reports only after the running handler returned).
func lifecycleKill(t *testing.T, c *conn, cl *lcClient, method string) {
	switch method {
	case killWSClose:
		cl.ws.conn.Close()
		return
	case killGetCancel:
		// The GET pending when the kill point is reached may already have
		// taken the CONNECT packet: then the client's next GET is the one
		// cancelled.
		for {
			cl.cancelGet()
			<-cl.getDone
			c.mu.Lock()
			closed := c.state != stateOpen
			c.mu.Unlock()
			if closed {
				break
			}
			cl.pendingGet()
		}
	case killPingTimeout:
		// The heartbeat timer firing with a ping unanswered for too long.
		c.mu.Lock()
		c.awaitingPong = true
		c.hbDue = c.srv.hb.now() - int64(time.Second)
		c.mu.Unlock()
		go c.onHeartbeat(c.srv.hb.now())
	case killShutdownConn:
		// What Server.Shutdown does to each session.
		go c.shutdown()
	}
	eventually(t, "the transport to close", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.state != stateOpen
	})
}

// TestLifecyclePairingWhenTransportDies kills the transport at every step
// of the connect handshake, in every way, with several clients at once, and
// checks that OnDisconnect runs exactly for the sockets whose OnConnected
// ran, once.
func TestLifecyclePairingWhenTransportDies(t *testing.T) {
	points := []string{killInConnect, killAuthorized, killQueued, killInConnected, killAfter}
	methods := []string{killWSClose, killGetCancel, killPingTimeout, killShutdownConn}
	const clients = 6
	for _, point := range points {
		for _, method := range methods {
			t.Run(point+"/"+method, func(t *testing.T) {
				runLifecycleKill(t, point, method, clients)
			})
		}
	}
}

func runLifecycleKill(t *testing.T, point, method string, clients int) {
	srv := NewServer(Config{Logger: discardLogger(), PingTimeout: time.Minute})
	var mu sync.Mutex
	byID := make(map[string]*lcClient)
	clientOf := func(s *Socket) *lcClient {
		mu.Lock()
		defer mu.Unlock()
		return byID[s.conn.sid]
	}
	killAt := func(at string) func(*Socket) {
		return func(s *Socket) {
			if point == at {
				lifecycleKill(t, s.conn, clientOf(s), method)
			}
		}
	}
	srv.hookAuthorized = killAt(killAuthorized)
	srv.hookConnected = killAt(killQueued)
	p := newPairing()
	ns := srv.Of("/")
	ns.OnConnect(func(ctx context.Context, s *Socket, auth json.RawMessage) error {
		killAt(killInConnect)(s)
		return nil
	})
	ns.OnConnected(func(s *Socket) {
		p.onConnected(s)
		if cl := clientOf(s); cl != nil {
			cl.markConnected()
		}
		killAt(killInConnected)(s)
	})
	ns.OnDisconnect(p.onDisconnect)
	ts := serve(t, srv)

	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if method == killGetCancel {
				lifecyclePollClient(t, srv, ts.URL, point, method, &mu, byID)
			} else {
				lifecycleWSClient(t, srv, ts.URL, point, method, &mu, byID)
			}
		}()
	}
	wg.Wait()

	// Every session ends; then every OnDisconnect due has run.
	waitFor(t, "every session to end", func() bool { return srv.count.Load() == 0 })
	waitFor(t, "OnDisconnect for every OnConnected", func() bool {
		c, d := p.totals()
		return d >= c // more is an error check reports
	})
	p.check(t)
	c, _ := p.totals()
	want := clients
	switch point {
	case killInConnect, killAuthorized, killQueued:
		if method != killWSClose {
			// The socket was disconnected before its connected step.
			want = 0
		}
	}
	if c != want {
		t.Errorf("OnConnected ran %d times, want %d", c, want)
	}
}

func lifecycleWSClient(t *testing.T, srv *Server, base, point, method string, mu *sync.Mutex, byID map[string]*lcClient) {
	w, err := tryDialWS(base+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Errorf("dial: %v", err)
		return
	}
	w.t = t
	defer w.conn.Close()
	open, _, err := w.readMsg(testTimeout)
	if err != nil || !strings.HasPrefix(open, `0{"sid":"`) {
		t.Errorf("open packet %q: %v", open, err)
		return
	}
	sid := strings.SplitN(open[len(`0{"sid":"`):], `"`, 2)[0]
	cl := newLCClient()
	cl.ws = w
	mu.Lock()
	byID[sid] = cl
	mu.Unlock()
	if w.write(ws.OpText, []byte("40")) != nil {
		return
	}
	for {
		msg, _, err := w.readMsg(testTimeout)
		if err != nil {
			return // the server closed the connection (or the client did)
		}
		if point == killAfter && strings.HasPrefix(msg, "40{") {
			c := srv.lookup(sid)
			if c == nil {
				t.Errorf("session %s is gone", sid)
				return
			}
			if !cl.waitConnected(t) {
				return
			}
			lifecycleKill(t, c, cl, method)
		}
	}
}

func lifecyclePollClient(t *testing.T, srv *Server, base, point, method string, mu *sync.Mutex, byID map[string]*lcClient) {
	resp, err := doRequest(http.MethodGet, base+"/socket.io/?EIO=4&transport=polling", "", nil)
	if err != nil {
		t.Errorf("handshake: %v", err)
		return
	}
	body := readAll(resp)
	if !strings.HasPrefix(body, `0{"sid":"`) {
		t.Errorf("handshake body %q", body)
		return
	}
	sid := strings.SplitN(body[len(`0{"sid":"`):], `"`, 2)[0]
	url := base + "/socket.io/?EIO=4&transport=polling&sid=" + sid
	c := srv.lookup(sid)
	cl := newLCClient()
	mu.Lock()
	byID[sid] = cl
	mu.Unlock()

	var body0 string
	cl.pendingGet = func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		cl.cancelGet, cl.getDone = cancel, done
		go func() {
			defer close(done)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				body0 = readAll(resp)
			}
		}()
		eventually(t, "pending polling GET", func() bool {
			select {
			case <-done:
				return true
			default:
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.getActive || c.state != stateOpen
		})
	}
	cl.pendingGet()
	if resp, err := doRequest(http.MethodPost, url, "40", nil); err == nil {
		readAll(resp)
	}
	if point == killAfter {
		<-cl.getDone
		if !strings.HasPrefix(body0, "40{") {
			t.Errorf("expected CONNECT, got %q", body0)
			return
		}
		if !cl.waitConnected(t) {
			return
		}
		cl.pendingGet()
		lifecycleKill(t, c, cl, method)
	}
	<-cl.getDone
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// eventually is waitFor for goroutines other than the test's: it reports a
// timeout with t.Errorf and returns.
func eventually(t *testing.T, what string, cond func() bool) {
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(time.Millisecond)
	}
}
