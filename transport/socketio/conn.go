package socketio

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

type connState uint8

const (
	stateOpen connState = iota
	stateClosed
)

// closeMode tells closeWith what the client should receive.
type closeMode uint8

const (
	// closeQuiet is used when the client initiated the close or the
	// transport is gone: a pending polling request gets a noop packet.
	closeQuiet closeMode = iota
	// closeNotify sends an Engine.IO close packet to the client if it can be
	// delivered right away.
	closeNotify
	// closeLingerMode keeps a polling session around until the client fetched
	// its last packets and then the close packet (used by Shutdown).
	closeLingerMode
)

var (
	errConnClosed       = errors.New("socketio: connection closed")
	errSlowConsumer     = errors.New("socketio: the client reads too slowly")
	errUnexpectedText   = errors.New("socketio: text packet while waiting for binary attachments")
	errUnexpectedBinary = errors.New("socketio: unexpected binary packet")
)

var (
	pingPacket  = []byte{eioPing}
	closePacket = []byte{eioClose}
	noopPacket  = []byte{eioNoop}
)

// conn is one Engine.IO session. It carries either the polling transport or
// a WebSocket, plus at most one WebSocket probing for an upgrade.
type conn struct {
	srv *Server
	sid string // the start of req.packed, which holds it
	req requestInfo

	// ser runs the Socket.IO handlers of this connection one at a time.
	ser serial

	mu sync.Mutex

	ws    *wsConn // active WebSocket transport (nil while polling)
	probe *wsConn // WebSocket being upgraded to

	// Polling transport.
	queue [][]byte
	wake  chan struct{}

	// timer is the connect timeout while the session is open (armed while
	// no socket of the session is connected; connGen identifies the armed
	// one), then the polling linger once it is closed (closeLingerMode).
	timer stopper

	// Heartbeat (see heartbeats): hbDue is when the next step is due, in
	// srv.hb's clock; hbTick and hbPos, guarded by srv.hb.mu, file the
	// connection there.
	hbDue  int64
	hbTick int64

	// bucket limits the inbound packets; used by dispatch only.
	bucket tokenBucket

	sockets []*Socket
	bin     *socketPacket // binary packet waiting for its attachments

	wsActive  atomic.Bool // ws was set: the session moved to WebSocket
	hbPos     int32
	connGen   uint32 // identifies the armed connect timeout
	connected int32  // sockets in state socketConnected

	// The one-byte fields together, so that the struct fits a 256-byte
	// size class.
	state        connState
	finalized    bool
	lingering    bool
	probing      bool // an upgrade is in progress (probe reserved)
	upgrading    bool // the probe was answered: polling requests return at once
	getActive    bool // polling
	postActive   bool // polling
	awaitingPong bool
}

func newConn(s *Server, r *http.Request) *conn {
	c := &conn{srv: s, req: newRequestInfo(r, newID())}
	c.sid = c.req.sid()
	c.bucket.init(s.cfg.EventBurst)
	return c
}

func (c *conn) openPacket(transport string) []byte {
	upgrades := []string{}
	if transport == "polling" {
		upgrades = append(upgrades, "websocket")
	}
	cfg := &c.srv.cfg
	data, _ := json.Marshal(struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int64    `json:"maxPayload"`
	}{c.sid, upgrades, cfg.PingInterval.Milliseconds(), cfg.PingTimeout.Milliseconds(), cfg.MaxPayload})
	return append([]byte{eioOpen}, data...)
}

// start arms the heartbeat and the connect timeout.
func (c *conn) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return
	}
	c.hbDue = c.srv.hb.now() + int64(c.srv.cfg.PingInterval)
	c.srv.hb.schedule(c, c.hbDue)
	if c.connected == 0 {
		c.armConnectTimeoutLocked()
	}
}

// armConnectTimeoutLocked starts the connect timeout, replacing any armed
// one. c.mu must be held.
func (c *conn) armConnectTimeoutLocked() {
	t := c.srv.cfg.ConnectTimeout
	if t <= 0 || c.state != stateOpen {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.connGen++
	gen := c.connGen
	c.timer = c.srv.afterFunc(t, func() { c.onConnectTimeout(gen) })
}

// onHeartbeat runs the heartbeat step of c that is due at now: it closes a
// connection whose pong did not come in time, or sends a ping. It runs on
// the heartbeat scheduler's goroutine, which it must not hold up: the close
// runs on a goroutine of its own (it runs OnDisconnect handlers).
func (c *conn) onHeartbeat(now int64) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	if c.hbDue > now {
		// A pong moved the deadline after this run took c.
		c.srv.hb.schedule(c, c.hbDue)
		c.mu.Unlock()
		return
	}
	if c.awaitingPong {
		c.mu.Unlock()
		go c.closeWith("ping timeout", closeNotify)
		return
	}
	c.awaitingPong = true
	c.hbDue = now + int64(c.srv.cfg.PingTimeout)
	c.srv.hb.schedule(c, c.hbDue)
	c.sendLocked(pingPacket)
	c.mu.Unlock()
}

func (c *conn) onPong() {
	c.mu.Lock()
	if c.state == stateOpen && c.awaitingPong {
		c.awaitingPong = false
		c.hbDue = c.srv.hb.now() + int64(c.srv.cfg.PingInterval)
		c.srv.hb.schedule(c, c.hbDue)
	}
	c.mu.Unlock()
}

// onConnectTimeout closes the session if the timer gen is still the armed
// one and no socket connected meanwhile.
func (c *conn) onConnectTimeout(gen uint32) {
	c.mu.Lock()
	expired := c.state == stateOpen && c.connected == 0 && c.connGen == gen
	c.mu.Unlock()
	if expired {
		c.srv.log.Debug("socketio: no namespace connected in time, closing", "sid", c.sid)
		c.closeWith("forced server close", closeNotify)
	}
}

// markConnected counts a socket that is connecting, which disarms the
// connect timeout. It is called with the socket's mu held, in the critical
// section that makes it connected. It returns false, counting nothing, when
// the session is closed: the socket must then stay unconnected (closeWith
// is about to disconnect it).
func (c *conn) markConnected() bool {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return false
	}
	c.connected++
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
		c.connGen++
	}
	c.mu.Unlock()
	return true
}

// isOpen reports whether the session is open.
func (c *conn) isOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateOpen
}

// markDisconnected counts a connected socket that left; when it was the
// last one, the connect timeout starts again.
func (c *conn) markDisconnected() {
	c.mu.Lock()
	c.connected--
	if c.connected == 0 {
		c.armConnectTimeoutLocked()
	}
	c.mu.Unlock()
}

// signal wakes a pending polling GET. c.mu must be held.
func (c *conn) signal() {
	if c.wake == nil {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// sendLocked writes one encoded Engine.IO packet to the active transport or
// queues it for the next polling GET. c.mu must be held. The packet bytes
// must not be modified afterwards (they may be shared between connections).
func (c *conn) sendLocked(pkt []byte) error {
	if c.ws != nil {
		return c.ws.writeFrameLocked(ws.OpText, pkt)
	}
	c.queue = append(c.queue, pkt)
	c.signal()
	return nil
}

// sendBinaryLocked sends a binary message packet: a binary frame on a
// WebSocket, a base64 "b" packet on polling. c.mu must be held.
func (c *conn) sendBinaryLocked(data []byte) error {
	if c.ws != nil {
		return c.ws.writeFrameLocked(ws.OpBinary, data)
	}
	c.queue = append(c.queue, appendEnginePacket(nil, enginePacket{Type: eioMessage, Data: data, Binary: true}))
	c.signal()
	return nil
}

// send writes a packet and its binary attachments, without interleaving,
// if the session is open. It never closes the session itself: a failed
// WebSocket write closes the network connection, which the reader goroutine
// then reports.
func (c *conn) send(pkt []byte, atts ...[]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return errConnClosed
	}
	if err := c.sendLocked(pkt); err != nil {
		return err
	}
	for _, a := range atts {
		if err := c.sendBinaryLocked(a); err != nil {
			return err
		}
	}
	return nil
}

// closeWith closes the session once, disconnecting its sockets with reason.
func (c *conn) closeWith(reason string, mode closeMode) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	c.srv.count.Add(-1)
	c.srv.hb.unschedule(c)
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
		c.connGen++
	}
	sockets := c.sockets
	c.sockets = nil
	c.bin = nil
	finalizeNow := true
	if w := c.ws; w != nil {
		if mode != closeQuiet {
			w.writeFrameLocked(ws.OpText, closePacket)
		}
		w.writeCloseLocked(ws.StatusNormalClosure)
		c.queue = nil
	} else {
		switch {
		case mode == closeLingerMode:
			// The queued packets (DISCONNECTs) go out first and the close
			// packet on the following poll: the reference client handles
			// a close packet before the messages of the same payload.
			finalizeNow = false
			c.lingering = true
			d := min(c.srv.cfg.PingTimeout, maxPollLinger)
			c.timer = time.AfterFunc(d, c.finalize)
		case mode == closeNotify:
			c.queue = append(c.queue, closePacket)
		case c.getActive && len(c.queue) == 0:
			c.queue = append(c.queue, noopPacket)
		}
		if !c.lingering {
			if c.getActive {
				finalizeNow = false // the pending GET delivers the queue and finalizes
			} else {
				c.queue = nil
			}
		}
		c.signal()
	}
	if p := c.probe; p != nil && !(c.lingering && c.upgrading) {
		// An upgrade whose probe was already answered is left to complete
		// while lingering: the client paused polling and will only read the
		// last packets on the WebSocket (see completeUpgrade).
		c.probe = nil
		p.writeCloseLocked(ws.StatusNormalClosure)
	}
	c.mu.Unlock()

	c.srv.log.Debug("socketio: connection closed", "sid", c.sid, "reason", reason)
	for _, s := range sockets {
		s.closeSocket(reason, false)
	}
	if finalizeNow {
		c.finalize()
	}
}

// finalize forgets the session. It is idempotent.
func (c *conn) finalize() {
	c.mu.Lock()
	if c.finalized {
		c.mu.Unlock()
		return
	}
	open := c.state == stateOpen
	c.mu.Unlock()
	if open {
		// Forced by Shutdown: close first (which may finalize by itself).
		c.closeWith("server shutting down", closeQuiet)
	}
	c.mu.Lock()
	if c.finalized {
		c.mu.Unlock()
		return
	}
	c.finalized = true
	c.lingering = false
	c.queue = nil
	if p := c.probe; p != nil {
		c.probe = nil
		p.writeCloseLocked(ws.StatusNormalClosure)
	}
	if c.timer != nil {
		c.timer.Stop() // the linger
		c.timer = nil
	}
	c.signal()
	c.mu.Unlock()
	c.srv.unregister(c)
}

// shutdown disconnects every socket (sending DISCONNECT) and closes the
// session with a close packet.
func (c *conn) shutdown() {
	c.mu.Lock()
	sockets := append([]*Socket(nil), c.sockets...)
	c.mu.Unlock()
	for _, s := range sockets {
		// No DISCONNECT packet: like the JavaScript server's close, only
		// the Engine.IO connection closes, so clients reconnect by
		// themselves (to another instance behind the load balancer) with
		// the credentials they have.
		s.closeSocket(reasonServerShutdown, false)
	}
	c.closeWith(reasonServerShutdown, closeLingerMode)
}

// handleGet serves a polling GET: it blocks until packets are available,
// the session closes or the client goes away.
func (c *conn) handleGet(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.ws != nil {
		c.mu.Unlock()
		writeError(w, http.StatusBadRequest, errCodeBadRequest)
		return
	}
	if c.finalized || (c.state != stateOpen && !c.lingering) {
		c.mu.Unlock()
		writeError(w, http.StatusBadRequest, errCodeUnknownSID)
		return
	}
	if c.getActive {
		c.mu.Unlock()
		c.srv.log.Debug("socketio: overlapping polling GET", "sid", c.sid)
		c.closeWith("transport error", closeNotify)
		writeError(w, http.StatusBadRequest, errCodeBadRequest)
		return
	}
	c.getActive = true
	wake := c.wake
	for len(c.queue) == 0 && c.state == stateOpen && !c.upgrading && c.ws == nil {
		c.mu.Unlock()
		select {
		case <-wake:
		case <-r.Context().Done():
			c.mu.Lock()
			c.getActive = false
			closed := c.state != stateOpen
			c.mu.Unlock()
			c.closeWith("transport error", closeQuiet)
			if closed {
				c.finalize()
			}
			return
		}
		c.mu.Lock()
	}
	packets := c.queue
	c.queue = nil
	c.getActive = false
	finalize := c.state != stateOpen
	if finalize && c.lingering {
		if len(packets) == 0 {
			packets = [][]byte{closePacket}
		} else {
			finalize = false // the close packet goes with the next poll
		}
	}
	c.mu.Unlock()

	if len(packets) == 0 {
		packets = [][]byte{noopPacket}
	}
	writePayload(w, packets)
	if finalize {
		c.finalize()
	}
}

func writePayload(w http.ResponseWriter, packets [][]byte) {
	var body []byte
	if len(packets) == 1 {
		body = packets[0]
	} else {
		n := len(packets) - 1
		for _, p := range packets {
			n += len(p)
		}
		body = appendPayload(make([]byte, 0, n), packets)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// handlePost serves a polling POST carrying a payload of packets.
func (c *conn) handlePost(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.ws != nil {
		c.mu.Unlock()
		writeError(w, http.StatusBadRequest, errCodeBadRequest)
		return
	}
	if c.state != stateOpen {
		c.mu.Unlock()
		writeError(w, http.StatusBadRequest, errCodeUnknownSID)
		return
	}
	if c.postActive {
		c.mu.Unlock()
		c.srv.log.Debug("socketio: overlapping polling POST", "sid", c.sid)
		c.closeWith("transport error", closeNotify)
		writeError(w, http.StatusBadRequest, errCodeBadRequest)
		return
	}
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		// Engine.IO v4 always sends base64 text payloads.
		c.mu.Unlock()
		c.closeWith("transport error", closeNotify)
		writeError(w, http.StatusBadRequest, errCodeBadRequest)
		return
	}
	c.postActive = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.postActive = false
		c.mu.Unlock()
	}()

	limit := c.srv.cfg.MaxPayload
	if r.ContentLength > limit {
		c.closeWith("transport error", closeNotify)
		writeJSONError(w, http.StatusRequestEntityTooLarge, errCodeBadRequest, "Payload too large")
		return
	}
	bp := getBuf()
	defer putBuf(bp)
	body, tooLarge, err := readBody(r.Body, bp, limit)
	if tooLarge {
		c.closeWith("transport error", closeNotify)
		writeJSONError(w, http.StatusRequestEntityTooLarge, errCodeBadRequest, "Payload too large")
		return
	}
	if err != nil {
		c.closeWith("transport error", closeQuiet)
		writeError(w, http.StatusBadRequest, errCodeBadRequest)
		return
	}

	var perr error
	if err := decodePayload(body, func(p enginePacket) bool {
		if perr = c.onEnginePacket(p); perr != nil {
			return false
		}
		return true
	}); err != nil {
		perr = err
	}
	if perr != nil && perr != errConnClosed {
		c.srv.log.Debug("socketio: invalid polling payload", "sid", c.sid, "err", perr)
		c.closeWith("parse error", closeNotify)
		writeError(w, http.StatusBadRequest, errCodeBadRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "ok")
}

// readBody reads at most limit bytes into *bp. It reports tooLarge when the
// body is longer than limit.
func readBody(r io.Reader, bp *[]byte, limit int64) (body []byte, tooLarge bool, err error) {
	b := (*bp)[:0]
	defer func() { *bp = b }()
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, rerr := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return nil, true, nil
		}
		if rerr == io.EOF {
			return b, false, nil
		}
		if rerr != nil {
			return nil, false, rerr
		}
	}
}

// onEnginePacket handles one packet received on the active transport. A
// non-nil error means a protocol violation ("parse error"); errConnClosed
// means the session is (now) closed and further packets must be ignored.
func (c *conn) onEnginePacket(p enginePacket) error {
	c.mu.Lock()
	open := c.state == stateOpen
	c.mu.Unlock()
	if !open {
		return errConnClosed
	}
	switch p.Type {
	case eioClose:
		c.closeWith("transport close", closeQuiet)
		return errConnClosed
	case eioPong:
		c.onPong()
	case eioPing:
		// Engine.IO v4 pings go from the server to the client only.
		c.srv.log.Debug("socketio: invalid heartbeat direction", "sid", c.sid)
		c.closeWith("transport error", closeNotify)
		return errConnClosed
	case eioMessage:
		if p.Binary {
			return c.onBinary(p.Data)
		}
		return c.onText(p.Data)
	}
	// open, upgrade and noop packets carry nothing to act on.
	return nil
}

// onText decodes a Socket.IO packet. data may be reused by the caller after
// onText returns.
func (c *conn) onText(data []byte) error {
	c.mu.Lock()
	waiting := c.bin != nil
	c.mu.Unlock()
	if waiting {
		return errUnexpectedText
	}
	p, err := decodeSocketPacket(data)
	if err != nil {
		return err
	}
	if p.Type == sioConnect && p.Data != nil {
		p.Data = append([]byte(nil), p.Data...)
	} else {
		p.Data = nil
	}
	if isBinaryType(p.Type) && p.Attachments > 0 {
		p.Binary = make([][]byte, 0, p.Attachments)
		c.mu.Lock()
		c.bin = p
		c.mu.Unlock()
		return nil
	}
	c.dispatchAsync(p)
	return nil
}

// onBinary receives one attachment; data is owned by the callee.
func (c *conn) onBinary(data []byte) error {
	c.mu.Lock()
	p := c.bin
	if p == nil {
		c.mu.Unlock()
		return errUnexpectedBinary
	}
	p.Binary = append(p.Binary, data)
	done := len(p.Binary) == p.Attachments
	if done {
		c.bin = nil
	}
	c.mu.Unlock()
	if done {
		c.dispatchAsync(p)
	}
	return nil
}

func (c *conn) dispatchAsync(p *socketPacket) {
	c.ser.do(func() { c.dispatch(p) })
}

// dispatch routes a complete Socket.IO packet. It runs serialized with every
// other handler of the connection.
func (c *conn) dispatch(p *socketPacket) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	s := c.socketLocked(p.Nsp)
	c.mu.Unlock()

	switch p.Type {
	case sioConnect:
		if s != nil {
			c.srv.log.Debug("socketio: duplicate CONNECT", "sid", c.sid, "nsp", clip(p.Nsp))
			c.closeWith("parse error", closeNotify)
			return
		}
		n := c.srv.namespace(p.Nsp)
		if n == nil && len(p.Nsp) > maxEcho {
			// No reply could name such a namespace without echoing it.
			c.srv.log.Debug("socketio: CONNECT to a long unknown namespace", "sid", c.sid, "nsp", clip(p.Nsp))
			c.closeWith("parse error", closeNotify)
			return
		}
		if !c.allow() {
			c.refused("RATE_LIMITED")
			c.send(encodeMessage(sioConnectError, p.Nsp, -1, c.srv.rateLimitedPayload))
			return
		}
		if n == nil {
			c.refused("INVALID_NAMESPACE")
			c.send(encodeMessage(sioConnectError, p.Nsp, -1, invalidNamespacePayload))
			return
		}
		n.connect(c, p.Data)
	case sioDisconnect:
		if s != nil {
			s.closeSocket(reasonClientDisconnect, false)
		}
	case sioEvent, sioBinaryEvent:
		allowed := c.allow()
		if s != nil {
			s.onEvent(p, !allowed)
		}
	case sioAck, sioBinaryAck:
		if s != nil {
			s.onAck(p)
		}
	default:
		c.srv.log.Debug("socketio: unexpected packet type from client", "sid", c.sid, "type", p.Type)
		c.closeWith("parse error", closeNotify)
	}
}

// refused reports a CONNECT refused by the server to Config.OnRefused.
func (c *conn) refused(code string) {
	if f := c.srv.cfg.OnRefused; f != nil {
		f(code)
	}
}

var invalidNamespacePayload = []byte(`{"message":"Invalid namespace"}`)

// socketLocked returns the socket of namespace nsp. c.mu must be held.
func (c *conn) socketLocked(nsp string) *Socket {
	for _, s := range c.sockets {
		if s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

func (c *conn) addSocket(s *Socket) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return false
	}
	c.sockets = append(c.sockets, s)
	return true
}

func (c *conn) removeSocket(s *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.sockets {
		if x == s {
			last := len(c.sockets) - 1
			c.sockets[i] = c.sockets[last]
			c.sockets[last] = nil
			c.sockets = c.sockets[:last]
			if len(c.sockets) == 0 {
				c.sockets = nil
			}
			return
		}
	}
}

// allow takes a token for an inbound CONNECT or event. It runs in dispatch.
func (c *conn) allow() bool {
	cfg := &c.srv.cfg
	if cfg.EventRate == 0 {
		return true
	}
	return c.bucket.take(cfg.Now(), cfg.EventRate, float64(cfg.EventBurst))
}

// tokenBucket limits the inbound packets of one connection, at the rate
// and burst of the server's Config (kept there, not per connection). It is
// used only from dispatch, which runs serialized, so it needs no lock.
type tokenBucket struct {
	tokens float64
	last   int64 // Unix nanoseconds of the last take; 0: none yet
}

func (b *tokenBucket) init(burst int) { b.tokens = float64(burst) }

// take removes a token if there is one. A zero rate means no limit.
func (b *tokenBucket) take(now time.Time, rate, burst float64) bool {
	if rate == 0 {
		return true
	}
	t := now.UnixNano()
	if t == 0 {
		t = 1
	}
	if b.last != 0 {
		if d := t - b.last; d > 0 {
			b.tokens = min(burst, b.tokens+time.Duration(d).Seconds()*rate)
		}
	}
	if b.last == 0 || t > b.last {
		b.last = t
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// serial runs functions one at a time without a dedicated goroutine: the
// first caller runs its function and then drains whatever other callers
// queued meanwhile. A function queued from inside a running function runs
// right after it, so handlers may safely trigger other handlers.
type serial struct {
	mu      sync.Mutex
	running bool
	queue   []func()
}

func (q *serial) do(f func()) {
	if q.claim(f) {
		q.drain(f)
	}
}

// claim queues f behind the running function and reports false, or, when
// the queue is idle, marks it running and reports true: the caller then
// drains it, starting with f.
func (q *serial) claim(f func()) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running {
		q.queue = append(q.queue, f)
		return false
	}
	q.running = true
	return true
}

// goDo queues f like do but never runs it on the caller's goroutine: when
// the queue is idle, a new goroutine runs f and drains the queue. It is for
// callers that must not be delayed by handlers, such as broadcasters.
func (q *serial) goDo(f func()) {
	if q.claim(f) {
		go q.drain(f)
	}
}

// drain runs f and then the queued functions until the queue is empty. The
// caller must have set q.running.
func (q *serial) drain(f func()) {
	for f != nil {
		q.run(f)
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.running = false
			q.queue = nil
			f = nil
		} else {
			f = q.queue[0]
			q.queue[0] = nil
			q.queue = q.queue[1:]
		}
		q.mu.Unlock()
	}
}

func (q *serial) run(f func()) {
	defer func() {
		// Handlers recover their own panics; this only keeps the queue
		// consistent if something else panics.
		recover()
	}()
	f()
}

// Buffer pools for request bodies and WebSocket frames.
const maxPooledBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if b == nil || cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
