package socketio

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	rv "github.com/rendezvous-go/rendezvous"
)

// Engine.IO error codes, as returned in the JSON body of rejected requests.
const (
	errCodeUnknownTransport   = 0
	errCodeUnknownSID         = 1
	errCodeBadHandshakeMethod = 2
	errCodeBadRequest         = 3
	errCodeForbidden          = 4
	errCodeUnsupportedVersion = 5
)

var errorMessages = [...]string{
	errCodeUnknownTransport:   "Transport unknown",
	errCodeUnknownSID:         "Session ID unknown",
	errCodeBadHandshakeMethod: "Bad handshake method",
	errCodeBadRequest:         "Bad request",
	errCodeForbidden:          "Forbidden",
	errCodeUnsupportedVersion: "Unsupported protocol version",
}

const (
	defaultPingInterval   = 25 * time.Second
	defaultPingTimeout    = 20 * time.Second
	defaultMaxPayload     = 1_000_000
	defaultConnectTimeout = 45 * time.Second

	// upgradeTimeout bounds the polling → WebSocket upgrade (probe to upgrade packet).
	upgradeTimeout = 10 * time.Second
	// writeTimeout bounds a single WebSocket write; a client that does not
	// read for that long is disconnected.
	writeTimeout = 10 * time.Second
	// inlineWriteBudget is how long a write may wait for the socket before
	// the rest of it is handed to a flusher goroutine.
	inlineWriteBudget = 5 * time.Millisecond
	// maxPendingBytes bounds the backlog of a client that reads slower than
	// the server writes; beyond it the client is disconnected.
	maxPendingBytes = 1 << 20
	// closeLinger is how long a WebSocket connection waits for the peer's
	// close frame after the server sent its own.
	closeLinger = 2 * time.Second
	// maxPollLinger bounds how long a closed polling session waits for the
	// client to fetch its last packets (only after Shutdown).
	maxPollLinger = 2 * time.Second
)

// Config configures a Server. The zero value is usable: every zero field
// takes the default of the reference JavaScript server.
type Config struct {
	// PingInterval is the interval between two server pings. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long the server waits for the pong answering a
	// ping before it closes the connection. Default 20s.
	PingTimeout time.Duration
	// MaxPayload is the maximum size in bytes of an HTTP long-polling
	// request body and of a WebSocket message. Larger payloads close the
	// connection. Default 1,000,000.
	MaxPayload int64
	// ConnectTimeout is how long an Engine.IO connection may stay open
	// without a socket connected to any namespace before it is closed: after
	// the handshake, and again each time its last namespace socket
	// disconnects (a refused CONNECT does not count as connected). Default
	// 45s, like the reference server; a negative value disables the limit.
	ConnectTimeout time.Duration
	// CheckOrigin decides whether the Origin of a request is allowed; nil
	// allows all. It is called only for requests carrying an Origin header
	// and applies to the handshake, the polling requests and the WebSocket
	// upgrade. When the origin is allowed, polling responses carry
	// Access-Control-Allow-Origin: <origin> and
	// Access-Control-Allow-Credentials: true, and OPTIONS preflight requests
	// are answered with 204. A disallowed origin gets a 403 response with the
	// Engine.IO JSON error body {"code":4,"message":"Forbidden"}.
	CheckOrigin func(r *http.Request) bool
	// Logger receives diagnostics. nil discards them.
	Logger *slog.Logger

	// EventRate limits the packets a client connection may send, in packets
	// per second on average, with bursts of EventBurst. One token bucket
	// per Engine.IO connection, shared by all its namespaces, counts every
	// CONNECT, EVENT and BINARY_EVENT packet it receives (DISCONNECT, ACK and
	// the Engine.IO heartbeat are not counted). Over the limit, a CONNECT
	// is refused with the CONNECT_ERROR
	// {"message":"too many requests; try again later","data":{"code":"RATE_LIMITED"}}
	// and an event goes to its namespace's OnRateLimited handler, or is
	// dropped (its acknowledgement is never sent) when there is none.
	// Zero or negative: no limit (the default).
	EventRate float64
	// EventBurst is the size of the bucket: how many packets a connection
	// may send at once. Default: EventRate rounded up, at least 1.
	EventBurst int
	// Now returns the current time for the event rate limit. Default
	// time.Now.
	Now func() time.Time

	// OnJoin and OnLeave follow the room membership of this server's
	// sockets, for a broker that subscribes only to the rooms with local
	// sockets. OnJoin is called by Socket.Join with the namespace and the
	// rooms the socket was not in yet, before Join returns (so Join waits
	// for it), outside every lock of the server. OnLeave is called with the
	// rooms a socket leaves: by Socket.Leave before it returns, and when
	// the socket disconnects or its connect is refused. Each room a socket
	// joins is passed exactly once to OnJoin and once to OnLeave, but when
	// a Join races the socket's disconnection OnLeave may come first:
	// count the calls rather than expect an order. Default: nil (nothing
	// called).
	OnJoin, OnLeave func(namespace string, rooms []string)

	// Observers, for metrics and logs. Each must be fast and must not call
	// the Server: they may run while a connection's lock is held. Default:
	// nil (nothing called).
	//
	// OnEventIn is called for every event a connected socket sends, with
	// the event's name when its namespace has a handler registered for it
	// with On, and "" otherwise (so that clients cannot make up names).
	OnEventIn func(namespace, event string)
	// OnEventOut is called for every event emitted (Socket.Emit,
	// Socket.EmitWithAck, Namespace.Emit) with the number of sockets it was
	// written to.
	OnEventOut func(namespace, event string, n int)
	// OnRefused is called when the server itself refuses a namespace
	// CONNECT, with "RATE_LIMITED" (Config.EventRate) or
	// "INVALID_NAMESPACE"; the refusals of ConnectHandlers are not
	// reported.
	OnRefused func(code string)
	// OnSlowClient is called when a WebSocket client is disconnected for
	// reading too slowly (its backlog is full, or a write timed out).
	OnSlowClient func()
	// OnSocketConnected is called when a socket of any namespace reaches
	// the connected step (after the namespace's OnConnected handler), and
	// OnSocketDisconnected when such a socket leaves (after its
	// namespace's OnDisconnect), with the reason.
	OnSocketConnected    func(s *Socket)
	OnSocketDisconnected func(s *Socket, reason string)

	// GoroutineReader reads every WebSocket on a goroutine of its own,
	// blocked in Read, instead of waiting for data with the server's
	// readiness poller (epoll, Linux only). The poller is the default where
	// it is available; WebSockets without a file descriptor (such as a
	// *tls.Conn) always get a reader goroutine. For comparisons and tests.
	GoroutineReader bool
}

// Server is a Socket.IO v5 server speaking Engine.IO v4 over HTTP
// long-polling and WebSocket. It is an http.Handler; mount it on the path the
// clients use (by default "/socket.io/").
type Server struct {
	cfg      Config
	log      *slog.Logger
	upgrader ws.HTTPUpgrader

	mu       sync.RWMutex
	sessions map[string]*conn
	nsps     map[string]*Namespace
	shutting bool

	// writeTimeout bounds a single WebSocket write (see the constant).
	writeTimeout time.Duration
	// hb runs the heartbeats of all the sessions.
	hb *heartbeats
	// afterFunc starts the connect timeout timers (time.AfterFunc; tests
	// replace it to fire them on demand).
	afterFunc func(time.Duration, func()) stopper

	// Test hooks of the connect handshake (nil outside tests): hookAuthorized
	// runs after the ConnectHandler accepted a socket and before it is
	// connected, hookConnected after the CONNECT packet was queued and
	// before the connected step.
	hookAuthorized, hookConnected func(*Socket)
	// rateLimitedPayload is the CONNECT_ERROR payload of a rate-limited
	// CONNECT.
	rateLimitedPayload []byte

	// wg counts live sessions and WebSocket readers (goroutines or polled
	// connections).
	wg    sync.WaitGroup
	count atomic.Int64

	// poll reads the WebSockets (see poll.go); started by the first one.
	pollMu     sync.Mutex
	poll       *poller
	pollFailed bool
}

// NewServer returns a Server without any namespace: register each one the
// clients may connect to, "/" included, with Of.
func NewServer(cfg Config) *Server {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = defaultPingInterval
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = defaultPingTimeout
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = defaultMaxPayload
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	if !(cfg.EventRate > 0) {
		cfg.EventRate = 0
	} else if cfg.EventBurst <= 0 {
		cfg.EventBurst = int(min(math.Ceil(cfg.EventRate), math.MaxInt32))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rl, _ := json.Marshal(struct {
		Message string `json:"message"`
		Data    any    `json:"data"`
	}{rv.ErrRateLimited.Message, map[string]string{"code": rv.ErrRateLimited.Code}})
	return &Server{
		cfg:                cfg,
		log:                log,
		upgrader:           ws.HTTPUpgrader{Timeout: writeTimeout},
		sessions:           make(map[string]*conn),
		nsps:               make(map[string]*Namespace),
		writeTimeout:       writeTimeout,
		hb:                 newHeartbeats(cfg.PingInterval, cfg.PingTimeout),
		afterFunc:          func(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) },
		rateLimitedPayload: rl,
	}
}

// stopper is a timer that can be stopped, such as a *time.Timer.
type stopper interface{ Stop() bool }

// Of returns the namespace with the given name, creating it if needed. A
// missing leading slash is added. Only namespaces created with Of are
// served, "/" included: a client connecting to any other receives
// CONNECT_ERROR {"message":"Invalid namespace"}.
func (s *Server) Of(nsp string) *Namespace {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	s.mu.RLock()
	n := s.nsps[nsp]
	s.mu.RUnlock()
	if n != nil {
		return n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n = s.nsps[nsp]; n == nil {
		n = newNamespace(s, nsp)
		s.nsps[nsp] = n
	}
	return n
}

// Lookup returns the namespace with the given name if it was created with
// Of, and nil otherwise. Unlike Of it never creates one, so code that only
// emits (to events published by another instance, say) does not open a
// namespace to clients. A missing leading slash is added.
func (s *Server) Lookup(nsp string) *Namespace {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	return s.namespace(nsp)
}

func (s *Server) namespace(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nsps[name]
}

// ConnCount returns the number of open Engine.IO connections.
func (s *Server) ConnCount() int { return int(s.count.Load()) }

// CountSockets calls yield with the number of connected sockets of each
// namespace, by transport ("polling" or "websocket"), leaving out the
// zero counts. It takes each namespace's read lock in turn.
func (s *Server) CountSockets(yield func(namespace, transport string, n int)) {
	s.mu.RLock()
	nsps := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		nsps = append(nsps, n)
	}
	s.mu.RUnlock()
	for _, n := range nsps {
		var polling, websocket int
		n.smu.RLock()
		for _, sock := range n.sockets {
			if sock.conn.wsActive.Load() {
				websocket++
			} else {
				polling++
			}
		}
		n.smu.RUnlock()
		if polling > 0 {
			yield(n.name, "polling", polling)
		}
		if websocket > 0 {
			yield(n.name, "websocket", websocket)
		}
	}
}

// Shutdown stops accepting new Engine.IO sessions (handshakes get 503 and
// upgrades are rejected), sends an Engine.IO close packet to every
// connection and waits until every connection has ended or ctx is done.
// Sockets see OnDisconnect with reason "server shutting down". No Socket.IO
// DISCONNECT packet is sent, so clients see "transport close" and reconnect
// by themselves, as they do when a JavaScript server closes.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutting = true
	conns := make([]*conn, 0, len(s.sessions))
	for _, c := range s.sessions {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	for _, c := range conns {
		c.shutdown()
	}

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		s.stopPoller()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.RLock()
		conns = conns[:0]
		for _, c := range s.sessions {
			conns = append(conns, c)
		}
		s.mu.RUnlock()
		for _, c := range conns {
			c.finalize()
		}
		return ctx.Err()
	}
}

// register adds a new session. It returns false when the server is shutting down.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return false
	}
	s.sessions[c.sid] = c
	s.wg.Add(1)
	s.count.Add(1)
	return true
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	if s.sessions[c.sid] == c {
		delete(s.sessions, c.sid)
	}
	s.mu.Unlock()
	s.wg.Done()
}

// startReader accounts for a WebSocket reader goroutine. It returns false
// when the server is shutting down.
func (s *Server) startReader() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.shutting {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Server) lookup(sid string) *conn {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessions[sid]
}

func (s *Server) isShuttingDown() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.shutting
}

// ServeHTTP handles every Engine.IO request: handshakes, polling GET/POST
// requests and WebSocket upgrades. It ignores the URL path, so it can be
// mounted under any prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		if s.cfg.CheckOrigin != nil && !s.cfg.CheckOrigin(r) {
			writeError(w, http.StatusForbidden, errCodeForbidden)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusNoContent)
		return
	}

	q := r.URL.Query()
	transport := q.Get("transport")
	if transport != "polling" && transport != "websocket" {
		writeError(w, http.StatusBadRequest, errCodeUnknownTransport)
		return
	}
	isUpgrade := transport == "websocket" && headerHasToken(r.Header, "Upgrade", "websocket")

	if sid := q.Get("sid"); sid != "" {
		c := s.lookup(sid)
		if c == nil {
			writeError(w, http.StatusBadRequest, errCodeUnknownSID)
			return
		}
		if q.Get("EIO") != "4" {
			writeError(w, http.StatusBadRequest, errCodeUnsupportedVersion)
			return
		}
		if transport == "websocket" {
			if !isUpgrade {
				writeError(w, http.StatusBadRequest, errCodeBadRequest)
				return
			}
			s.handleUpgrade(w, r, c)
			return
		}
		switch r.Method {
		case http.MethodGet:
			c.handleGet(w, r)
		case http.MethodPost:
			c.handlePost(w, r)
		default:
			writeError(w, http.StatusBadRequest, errCodeBadRequest)
		}
		return
	}

	if r.Method != http.MethodGet {
		writeError(w, http.StatusBadRequest, errCodeBadHandshakeMethod)
		return
	}
	if transport == "websocket" && !isUpgrade {
		writeError(w, http.StatusBadRequest, errCodeBadRequest)
		return
	}
	if q.Get("EIO") != "4" {
		writeError(w, http.StatusBadRequest, errCodeUnsupportedVersion)
		return
	}
	if len(requestURI(r)) > maxURIKept {
		// The session keeps its handshake URI (see Socket.Request).
		writeError(w, http.StatusBadRequest, errCodeBadRequest)
		return
	}
	if s.isShuttingDown() {
		writeJSONError(w, http.StatusServiceUnavailable, errCodeBadRequest, "Server is shutting down")
		return
	}
	if transport == "websocket" {
		s.handleWebSocketHandshake(w, r)
		return
	}
	s.handlePollingHandshake(w, r)
}

func (s *Server) handlePollingHandshake(w http.ResponseWriter, r *http.Request) {
	c := newConn(s, r)
	if !s.register(c) {
		writeJSONError(w, http.StatusServiceUnavailable, errCodeBadRequest, "Server is shutting down")
		return
	}
	c.mu.Lock()
	c.wake = make(chan struct{}, 1)
	c.queue = append(c.queue, c.openPacket("polling"))
	c.mu.Unlock()
	c.start()
	c.handleGet(w, r)
}

func (s *Server) handleWebSocketHandshake(w http.ResponseWriter, r *http.Request) {
	wc := s.upgrade(w, r)
	if wc == nil {
		return
	}
	c := newConn(s, r)
	if !s.register(c) {
		wc.abort(ws.StatusGoingAway)
		return
	}
	if !s.startReader() {
		wc.abort(ws.StatusGoingAway)
		c.closeWith("server shutting down", closeQuiet)
		return
	}
	wc.c = c
	s.preparePoll(wc)
	c.mu.Lock()
	c.ws = wc
	c.wsActive.Store(true)
	err := wc.writeFrameLocked(ws.OpText, c.openPacket("websocket"))
	c.mu.Unlock()
	if err != nil {
		wc.unprepare()
		s.wg.Done()
		wc.nc.Close()
		c.closeWith("transport error", closeQuiet)
		return
	}
	c.start()
	s.startReading(wc)
}

func (s *Server) handleUpgrade(w http.ResponseWriter, r *http.Request, c *conn) {
	if s.isShuttingDown() {
		writeJSONError(w, http.StatusServiceUnavailable, errCodeBadRequest, "Server is shutting down")
		return
	}
	// Reserve the probe slot before upgrading, so that a second WebSocket
	// for the same session is refused.
	c.mu.Lock()
	ok := c.state == stateOpen && c.ws == nil && !c.probing
	if ok {
		c.probing = true
	}
	c.mu.Unlock()
	if !ok {
		// Like the reference server: accept the WebSocket, then close it.
		if wc := s.upgrade(w, r); wc != nil {
			wc.abort(ws.StatusNormalClosure)
		}
		return
	}
	release := func() {
		c.mu.Lock()
		c.probing = false
		c.mu.Unlock()
	}
	wc := s.upgrade(w, r)
	if wc == nil {
		release()
		return
	}
	wc.c = c
	if !s.startReader() {
		release()
		wc.abort(ws.StatusGoingAway)
		return
	}
	s.preparePoll(wc)
	c.mu.Lock()
	if c.state != stateOpen {
		c.probing = false
		c.mu.Unlock()
		wc.unprepare()
		s.wg.Done()
		wc.abort(ws.StatusNormalClosure)
		return
	}
	// The whole upgrade must complete within upgradeTimeout.
	wc.setReadTimeout(upgradeTimeout)
	c.probe = wc
	c.mu.Unlock()
	s.startReading(wc)
}

// upgrade performs the WebSocket handshake and returns the connection, or
// nil when the handshake failed (the error response was already written).
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request) *wsConn {
	nc, rw, _, err := s.upgrader.Upgrade(r, w)
	if err != nil {
		s.log.Debug("socketio: websocket upgrade failed", "err", err)
		if nc != nil {
			nc.Close()
		}
		return nil
	}
	wc := &wsConn{nc: nc}
	// Keep nothing of the HTTP server's buffers but bytes the client may
	// already have sent after its handshake.
	if rw != nil && rw.Reader != nil {
		if n := rw.Reader.Buffered(); n > 0 {
			b, _ := rw.Reader.Peek(n)
			wc.pre = append([]byte(nil), b...)
		}
	}
	return wc
}

func writeError(w http.ResponseWriter, status, code int) {
	writeJSONError(w, status, code, errorMessages[code])
}

func writeJSONError(w http.ResponseWriter, status, code int, message string) {
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// newID returns a random, URL-safe 20 character identifier.
func newID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// What a session keeps of its handshake request (see Socket.Request).
const (
	// maxHeaderKept bounds each kept header (all its values together); a
	// longer one is left out.
	maxHeaderKept = 4 << 10
	// maxURIKept bounds the handshake's request URI; a handshake with a
	// longer one is refused.
	maxURIKept = 4 << 10
)

// keptHeaders are the request headers a session keeps, in canonical form.
var keptHeaders = [...]string{"Authorization", "Cookie", "Forwarded", "Origin", "User-Agent", "X-Forwarded-For", "X-Real-Ip"}

// requestInfo keeps, compactly, what the application may need from the
// request that opened a session: method, URI, proto, host, remote address,
// TLS state and the keptHeaders. The strings are copied into one packed
// string (after the session id, preceded by its length in a byte, each
// field preceded by its length as a uvarint; a kept header value by the
// index of its name in keptHeaders too), so that nothing of
// the HTTP server's request (its header map, its request line) stays
// reachable from the session and the session holds one allocation for all
// of them. Request decodes it on demand.
type requestInfo struct {
	packed string
	tls    *tls.ConnectionState
}

func requestURI(r *http.Request) string {
	if r.RequestURI == "" && r.URL != nil {
		return r.URL.RequestURI()
	}
	return r.RequestURI
}

// newRequestInfo packs r and the session id sid, which sid returns.
func newRequestInfo(r *http.Request, sid string) requestInfo {
	host := r.Host
	if len(host) > maxHeaderKept {
		host = ""
	}
	uri := requestURI(r)
	fields := [...]string{r.Method, uri, r.Proto, host, r.RemoteAddr}
	n := 1 + len(sid)
	for _, f := range fields {
		n += binary.MaxVarintLen64 + len(f)
	}
	for _, k := range keptHeaders {
		if vs := r.Header[k]; headerSize(vs) <= maxHeaderKept {
			for _, v := range vs {
				n += 1 + binary.MaxVarintLen64 + len(v)
			}
		}
	}
	b := make([]byte, 0, n)
	b = append(b, byte(len(sid)))
	b = append(b, sid...)
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	for i, k := range keptHeaders {
		if vs := r.Header[k]; headerSize(vs) <= maxHeaderKept {
			for _, v := range vs {
				b = append(b, byte(i))
				b = binary.AppendUvarint(b, uint64(len(v)))
				b = append(b, v...)
			}
		}
	}
	return requestInfo{packed: string(b), tls: r.TLS}
}

func headerSize(vs []string) int {
	n := 0
	for _, v := range vs {
		n += len(v)
	}
	return n
}

// next returns the field at the start of p and the rest of p.
func nextPacked(p string) (field, rest string) {
	l, n := binary.Uvarint([]byte(p[:min(len(p), binary.MaxVarintLen64)]))
	if n <= 0 || uint64(len(p)-n) < l {
		return "", ""
	}
	return p[n : n+int(l)], p[n+int(l):]
}

// sid returns the session id packed with the request.
func (ri *requestInfo) sid() string {
	if ri.packed == "" {
		return ""
	}
	return ri.packed[1 : 1+int(ri.packed[0])]
}

// request rebuilds an *http.Request from the stored information.
func (ri *requestInfo) request() *http.Request {
	var f [5]string
	p := ri.packed
	if p != "" {
		p = p[1+int(p[0]):] // the session id
	}
	for i := range f {
		f[i], p = nextPacked(p)
	}
	method, uri, proto, host, remoteAddr := f[0], f[1], f[2], f[3], f[4]
	h := make(http.Header)
	for len(p) > 0 {
		k := int(p[0])
		var v string
		v, p = nextPacked(p[1:])
		if k < len(keptHeaders) {
			h[keptHeaders[k]] = append(h[keptHeaders[k]], v)
		}
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		u = &url.URL{}
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		major, minor = 1, 1
	}
	return &http.Request{
		Method:     method,
		URL:        u,
		Proto:      proto,
		ProtoMajor: major,
		ProtoMinor: minor,
		Header:     h,
		Body:       http.NoBody,
		Host:       host,
		RemoteAddr: remoteAddr,
		RequestURI: uri,
		TLS:        ri.tls,
	}
}

// maxEcho bounds how much of a client's input (a namespace or event name)
// the server repeats in its replies, log lines and error messages.
const maxEcho = 64

// clip returns at most maxEcho bytes of s, cut on a UTF-8 boundary, with
// an ellipsis when it was cut.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	i := maxEcho
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
