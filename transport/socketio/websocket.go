package socketio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime/metrics"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/gobwas/ws"
)

var (
	errTooLarge    = errors.New("socketio: websocket message too large")
	errInvalidUTF8 = errors.New("socketio: invalid UTF-8 in text message")
	errPeerClose   = errors.New("socketio: websocket closed by peer")

	errBadClosePayload = ws.ProtocolError("close frame payload of one byte")
)

var probePing = []byte("2probe")
var probePong = []byte("3probe")

// wsConn is a WebSocket transport built directly on the hijacked net.Conn.
//
// While idle it holds no buffers: frames are read header first, the payload
// goes to a pooled buffer that is returned once the message was handled, and
// writes are framed into a pooled buffer under the session mutex. It is
// read either by the server's poller (poll.go: no goroutine while idle) or
// by a reader goroutine blocked in Read (run); a flusher goroutine exists
// only while a client reads slower than the server writes (see
// writeRawLocked).
type wsConn struct {
	nc net.Conn
	c  *conn

	// Read side: the reader goroutine, or whoever owns a polled connection
	// (pst == pollBusy).
	pre  []byte   // bytes read but not parsed yet (handshake leftovers, lead or in)
	lead [16]byte // reader goroutine: small frames (pings, pongs, short events) arrive in one read
	hdr  [ws.MaxHeaderSize]byte
	in   *[]byte // polled: bytes of the burst, or of an incomplete frame
	msg  *[]byte // polled: data message gathered from its fragments
	rerr error   // polled: the read error that ended the burst

	// Polled connections only (poll == nil for the reader goroutine).
	poll *poller
	rc   syscall.RawConn
	pid  uint64 // id in poll's table
	pmu  sync.Mutex

	// The one-byte fields together, so that the struct fits a 192-byte
	// size class.
	msgOp ws.OpCode // read side
	added bool      // read side: registered with the poller's kernel object
	terr  bool      // read side: the reader stopped on a protocol error: "transport error"
	// Guarded by pmu.
	pst     pollState
	expired bool // the read timeout fired
	// Guarded by c.mu.
	closeSent bool
	broken    bool
	flushing  bool // a flusher goroutine writes pending

	timer *time.Timer // the read timeout (pmu)
	// pending holds framed bytes that the socket could not take at once;
	// a flusher goroutine, alive only while flushing is set, writes them
	// (c.mu).
	pending []byte
}

// Read implements io.Reader for the frame parser, serving pre first.
func (w *wsConn) Read(p []byte) (int, error) {
	if len(w.pre) > 0 {
		n := copy(p, w.pre)
		w.pre = w.pre[n:]
		if len(w.pre) == 0 {
			w.pre = nil
		}
		return n, nil
	}
	if w.poll != nil {
		return 0, errNeedMore
	}
	return w.nc.Read(p)
}

// run is the reader goroutine. An idle connection waits for its next frame
// directly in this function, on the shallowest possible stack
// (run → net.Conn.Read), which fits in the minimum goroutine stack.
//
// Handling a message runs the handlers on this goroutine and may grow its
// stack; the runtime never shrinks a stack below four times what the parked
// frames need, so a grown stack would stay grown while the connection idles.
// The same holds for a goroutine started with a large stack (the runtime
// sizes new stacks after the average use, which rises under load). In both
// cases reading continues on a fresh goroutine, with a small stack, and this
// one exits: there is still exactly one reader per connection, and packets
// are still handled one after the other.
func (w *wsConn) run() {
	var mark byte
	base := uintptr(unsafe.Pointer(&mark))
	start := startingStackSize()
	for {
		if len(w.pre) == 0 {
			n, err := w.nc.Read(w.lead[:])
			if err != nil {
				w.readFailed(err)
				break
			}
			w.pre = w.lead[:n]
		}
		if !w.next() {
			break
		}
		if uintptr(unsafe.Pointer(&mark)) != base || (start > minStackSize && startingStackSize() < start) {
			// The stack was moved (it grew), or new goroutines now get a
			// smaller stack than this one.
			go w.run()
			return
		}
	}
	w.finish()
}

// minStackSize is the smallest goroutine stack the runtime allocates.
const minStackSize = 2048

// startingStackSize returns the stack size of goroutines started now.
//
//go:noinline
func startingStackSize() uint64 {
	s := [1]metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(s[:])
	if s[0].Value.Kind() != metrics.KindUint64 {
		return minStackSize
	}
	return s[0].Value.Uint64()
}

func (w *wsConn) next() bool {
	op, bp, err := w.readMessage()
	if err != nil {
		w.readFailed(err)
		return false
	}
	ok := w.handle(op, *bp)
	putBuf(bp)
	return ok
}

// finish runs when the reader stops: the network connection is closed and
// the session, if this WebSocket carried it, is closed too.
func (w *wsConn) finish() {
	w.nc.Close()
	c := w.c
	c.mu.Lock()
	attached := c.ws == w
	if c.probe == w {
		// Failed upgrade: the session keeps polling.
		c.probe = nil
		c.probing = false
		c.upgrading = false
	}
	w.broken = true
	c.mu.Unlock()
	if attached {
		reason := "transport close"
		if w.terr {
			reason = "transport error"
		}
		c.closeWith(reason, closeQuiet)
	}
	c.srv.wg.Done()
}

func (w *wsConn) readFailed(err error) {
	var code ws.StatusCode
	w.terr = false
	var perr ws.ProtocolError
	switch {
	case errors.Is(err, errPeerClose):
	case errors.Is(err, errTooLarge):
		code, w.terr = ws.StatusMessageTooBig, true
	case errors.Is(err, errInvalidUTF8):
		code, w.terr = ws.StatusInvalidFramePayloadData, true
	case errors.As(err, &perr), errors.Is(err, ws.ErrHeaderLengthMSB), errors.Is(err, ws.ErrHeaderLengthUnexpected):
		code, w.terr = ws.StatusProtocolError, true
	}
	if code != 0 {
		w.c.mu.Lock()
		w.writeCloseLocked(code)
		w.c.mu.Unlock()
	}
	if w.terr {
		w.c.srv.log.Debug("socketio: websocket error", "sid", w.c.sid, "err", err)
	}
}

// readMessage reads one complete (possibly fragmented) data message into a
// pooled buffer, answering control frames on the way.
func (w *wsConn) readMessage() (ws.OpCode, *[]byte, error) {
	var (
		op    ws.OpCode
		bp    *[]byte
		state = ws.StateServerSide
		limit = w.c.srv.cfg.MaxPayload
	)
	for {
		h, err := ws.ReadHeaderBuffer(w, w.hdr[:])
		if err == nil {
			err = ws.CheckHeader(h, state)
		}
		if err != nil {
			putBuf(bp)
			return 0, nil, err
		}
		if h.OpCode.IsControl() {
			if err := w.handleControl(h); err != nil {
				putBuf(bp)
				return 0, nil, err
			}
			continue
		}
		if bp == nil {
			bp = getBuf()
			op = h.OpCode
		}
		if int64(len(*bp))+h.Length > limit {
			putBuf(bp)
			return 0, nil, errTooLarge
		}
		if err := w.readPayload(bp, h); err != nil {
			putBuf(bp)
			return 0, nil, err
		}
		if h.Fin {
			return op, bp, nil
		}
		state = state.Set(ws.StateFragmented)
	}
}

// readPayload appends the unmasked payload of the frame to *bp. The buffer
// grows as bytes actually arrive, not by the length the peer declared.
func (w *wsConn) readPayload(bp *[]byte, h ws.Header) error {
	const chunk = 32 << 10
	b := *bp
	start := len(b)
	for remaining := int(h.Length); remaining > 0; {
		n := min(remaining, chunk)
		if cap(b)-len(b) < n {
			nb := make([]byte, len(b), max(2*cap(b), len(b)+n))
			copy(nb, b)
			b = nb
		}
		if _, err := io.ReadFull(w, b[len(b):len(b)+n]); err != nil {
			*bp = b
			return err
		}
		b = b[:len(b)+n]
		remaining -= n
	}
	if h.Masked {
		ws.Cipher(b[start:], h.Mask, 0)
	}
	*bp = b
	return nil
}

func (w *wsConn) handleControl(h ws.Header) error {
	bp := getBuf()
	defer putBuf(bp)
	if err := w.readPayload(bp, h); err != nil {
		return err
	}
	payload := *bp
	c := w.c
	switch h.OpCode {
	case ws.OpPing:
		c.mu.Lock()
		w.writeRawLocked(ws.OpPong, payload)
		c.mu.Unlock()
	case ws.OpClose:
		var code ws.StatusCode
		if len(payload) > 0 {
			var reason string
			code, reason = ws.ParseCloseFrameData(payload)
			if len(payload) < 2 {
				return errBadClosePayload
			}
			if err := ws.CheckCloseFrameData(code, reason); err != nil {
				return err
			}
		}
		c.mu.Lock()
		if !w.closeSent && !w.broken {
			var body []byte
			if !code.Empty() {
				body = ws.NewCloseFrameBody(code, "")
			}
			w.writeRawLocked(ws.OpClose, body)
			w.closeSent = true
		}
		c.mu.Unlock()
		return errPeerClose
	}
	return nil
}

// handle processes one complete data message. It returns false to stop
// reading.
func (w *wsConn) handle(op ws.OpCode, msg []byte) bool {
	if op == ws.OpText && !utf8.Valid(msg) {
		w.readFailed(errInvalidUTF8)
		return false
	}
	c := w.c
	c.mu.Lock()
	attached := c.ws == w
	isProbe := c.probe == w
	c.mu.Unlock()
	if isProbe {
		return w.handleProbe(op, msg)
	}
	if !attached {
		// The session is closing: keep reading until the peer answers our
		// close frame or the linger deadline expires.
		return true
	}
	var p enginePacket
	if op == ws.OpBinary {
		p = enginePacket{Type: eioMessage, Data: bytes.Clone(msg), Binary: true}
	} else {
		var err error
		if p, err = decodeEnginePacket(msg, false); err != nil {
			c.srv.log.Debug("socketio: invalid engine.io packet", "sid", c.sid, "err", err)
			c.closeWith("parse error", closeNotify)
			return true
		}
	}
	if err := c.onEnginePacket(p); err != nil && err != errConnClosed {
		c.srv.log.Debug("socketio: invalid socket.io packet", "sid", c.sid, "err", err)
		c.closeWith("parse error", closeNotify)
	}
	return true
}

// handleProbe drives the polling → WebSocket upgrade:
// client "2probe", server "3probe", client "5".
func (w *wsConn) handleProbe(op ws.OpCode, msg []byte) bool {
	c := w.c
	if op == ws.OpText && bytes.Equal(msg, probePing) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.probe != w || c.state != stateOpen {
			return false
		}
		if err := w.writeFrameLocked(ws.OpText, probePong); err != nil {
			return false
		}
		// Release the pending polling GET with a noop so the client can
		// pause its polling transport.
		c.upgrading = true
		c.signal()
		return true
	}
	if op == ws.OpText && len(msg) == 1 && msg[0] == eioUpgrade {
		return c.completeUpgrade(w)
	}
	c.srv.log.Debug("socketio: unexpected packet during upgrade", "sid", c.sid)
	c.mu.Lock()
	w.writeCloseLocked(ws.StatusNormalClosure)
	c.mu.Unlock()
	return false
}

// completeUpgrade switches the session to the WebSocket and flushes the
// packets buffered for polling.
func (c *conn) completeUpgrade(w *wsConn) bool {
	c.mu.Lock()
	if c.probe != w {
		c.mu.Unlock()
		return false
	}
	if c.state != stateOpen {
		// Shutdown raced with the upgrade: hand the last packets and the
		// close packet over the new transport, then close it.
		c.probe = nil
		for _, pkt := range c.queue {
			if w.writeFrameLocked(ws.OpText, pkt) != nil {
				break
			}
		}
		c.queue = nil
		w.writeFrameLocked(ws.OpText, closePacket)
		w.writeCloseLocked(ws.StatusNormalClosure)
		c.mu.Unlock()
		c.finalize()
		return true
	}
	defer c.mu.Unlock()
	c.probe = nil
	c.probing = false
	c.upgrading = false
	c.ws = w
	c.wsActive.Store(true)
	for _, pkt := range c.queue {
		if w.writeFrameLocked(ws.OpText, pkt) != nil {
			break
		}
	}
	c.queue = nil
	c.signal()
	c.wake = nil
	w.clearReadTimeout()
	return true
}

// writeFrameLocked writes one data frame. c.mu must be held.
func (w *wsConn) writeFrameLocked(op ws.OpCode, p []byte) error {
	if w.closeSent {
		return errConnClosed
	}
	return w.writeRawLocked(op, p)
}

// writeCloseLocked sends a close frame once and gives the peer closeLinger
// to answer before the reader gives up. c.mu must be held.
func (w *wsConn) writeCloseLocked(code ws.StatusCode) {
	if w.closeSent || w.broken {
		return
	}
	w.closeSent = true
	w.writeRawLocked(ws.OpClose, ws.NewCloseFrameBody(code, ""))
	w.setReadTimeout(closeLinger)
}

// writeRawLocked frames p and writes it without making the caller wait for
// a slow client: the frame is written at once if the socket takes it within
// inlineWriteBudget; what it does not take is kept in w.pending and written
// by a flusher goroutine that lives only while there is a backlog. Frames
// written meanwhile queue behind it, so the byte stream stays in order. A
// client whose backlog exceeds maxPendingBytes, or that takes nothing for
// writeTimeout, is disconnected as a slow consumer. So a broadcast to a
// room never waits on its slowest member. c.mu must be held (w.c may be nil
// only for a connection that abort closes right away).
func (w *wsConn) writeRawLocked(op ws.OpCode, p []byte) error {
	if w.broken {
		return errConnClosed
	}
	fb := framePool.Get().(*frameBuf)
	defer func() {
		if cap(fb.b) <= maxPooledBuf {
			framePool.Put(fb)
		}
	}()
	fb.b = fb.b[:0]
	if err := ws.WriteHeaderBuffer(fb, ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}, fb.hdr[:]); err != nil {
		return err
	}
	fb.b = append(fb.b, p...)
	return w.writeWireLocked(fb.b)
}

// writeWireLocked writes bytes that are already WebSocket frames, with the
// bounded backlog that writeRawLocked describes. b is never modified nor
// retained (the backlog copies it), so it may be shared between
// connections. c.mu must be held (w.c may be nil, see writeRawLocked).
func (w *wsConn) writeWireLocked(b []byte) error {
	if w.broken {
		return errConnClosed
	}
	if w.flushing {
		if len(w.pending)+len(b) > maxPendingBytes {
			w.fail()
			w.slowClient()
			return errSlowConsumer
		}
		w.pending = append(w.pending, b...)
		return nil
	}
	budget := inlineWriteBudget
	if w.c == nil {
		budget = writeTimeout
	}
	w.nc.SetWriteDeadline(time.Now().Add(budget))
	n, err := w.nc.Write(b)
	if err == nil {
		return nil
	}
	var ne net.Error
	if w.c == nil || !errors.As(err, &ne) || !ne.Timeout() {
		w.fail()
		return err
	}
	w.pending = append(w.pending[:0], b[n:]...)
	w.flushing = true
	go w.flush()
	return nil
}

// flush writes the backlog until it is empty, then ends.
func (w *wsConn) flush() {
	mu := &w.c.mu
	for {
		mu.Lock()
		buf := w.pending
		w.pending = nil
		if len(buf) == 0 || w.broken {
			w.flushing = false
			mu.Unlock()
			return
		}
		mu.Unlock()
		w.nc.SetWriteDeadline(time.Now().Add(w.c.srv.writeTimeout))
		if _, err := w.nc.Write(buf); err != nil {
			mu.Lock()
			w.flushing = false
			w.pending = nil
			slow := !w.broken
			w.fail()
			mu.Unlock()
			if ne := net.Error(nil); slow && errors.As(err, &ne) && ne.Timeout() {
				w.slowClient()
			}
			return
		}
	}
}

// slowClient reports a client disconnected for reading too slowly.
func (w *wsConn) slowClient() {
	if w.c != nil {
		if f := w.c.srv.cfg.OnSlowClient; f != nil {
			f()
		}
	}
}

// fail marks the connection broken and closes it; the reader notices and
// closes the session. c.mu must be held.
func (w *wsConn) fail() {
	w.broken = true
	w.nc.Close()
	if w.poll != nil {
		// Nothing reports a closed descriptor: a worker finds it closed.
		w.schedule()
	}
}

// abort closes a WebSocket that was never handed to a session.
func (w *wsConn) abort(code ws.StatusCode) {
	w.writeRawLocked(ws.OpClose, ws.NewCloseFrameBody(code, ""))
	w.nc.Close()
}

type frameBuf struct {
	b   []byte
	hdr [ws.MaxHeaderSize]byte
}

// Write appends p; it lets ws.WriteHeaderBuffer frame into the buffer.
func (f *frameBuf) Write(p []byte) (int, error) {
	f.b = append(f.b, p...)
	return len(p), nil
}

var framePool = sync.Pool{New: func() any { return &frameBuf{b: make([]byte, 0, 512)} }}
