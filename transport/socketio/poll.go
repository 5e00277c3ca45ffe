package socketio

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// Readiness reading: instead of a goroutine blocked in Read, a WebSocket
// can be registered with the server's poller (epoll on Linux, see
// poll_linux.go), which hands it to one of a few worker goroutines when the
// kernel reports data. The worker reads what is available without blocking,
// and a transient goroutine parses the frames and runs the handlers exactly
// as the reader goroutine does (see wsConn.process); it exits once the
// connection is re-armed. An idle connection then holds no goroutine and no
// buffer. See the Resources section of the package documentation.

// pollState tells who owns a polled WebSocket's read side.
type pollState uint8

const (
	// pollBusy: a worker or a process goroutine owns it; nothing else
	// reads it (the state of a connection not armed yet).
	pollBusy pollState = iota
	// pollArmed: registered with the kernel, waiting for data.
	pollArmed
	// pollDone: finished; it is no longer registered.
	pollDone
)

const (
	// readBufSize is the size of the buffer each worker reads into.
	readBufSize = 16 << 10
	// maxReadBurst bounds what a worker reads from one connection before it
	// hands the bytes over; the rest is read when the connection, re-armed,
	// is reported again.
	maxReadBurst = 64 << 10
	// keepSmallTail is the size up to which the bytes of an incomplete frame
	// are copied out of a larger pooled buffer, which is then released.
	keepSmallTail = 512
)

var (
	errWouldBlock  = errors.New("socketio: read would block")
	errNeedMore    = errors.New("socketio: incomplete frame")
	errStopReading = errors.New("socketio: stop reading")
	errNoPoller    = errors.New("socketio: no readiness poller on this platform")
)

// slot is an entry of the poller's connection table: the epoll event data
// is the slot index and its generation, never the file descriptor, so an
// event that arrives late for a closed connection cannot reach another one
// that got the same descriptor (or the same slot).
type slot struct {
	w   *wsConn
	gen uint32
}

// poller waits for readable WebSockets and reads them with a bounded pool
// of workers. It is created by the first WebSocket of a Server and stopped
// by Server.Shutdown once every connection ended.
type poller struct {
	sys pollSys
	log *slog.Logger

	mu    sync.Mutex
	slots []slot
	free  []uint32

	qmu     sync.Mutex
	qcond   sync.Cond
	queue   []*wsConn
	stopped bool

	wg sync.WaitGroup
}

// pollWorkers is the size of the worker pool: reads never block, so a few
// workers keep the CPUs busy.
func pollWorkers() int { return max(2, runtime.GOMAXPROCS(0)) }

func newPoller(s *Server) (*poller, error) {
	p := &poller{log: s.log, slots: make([]slot, 1)} // slot 0: the wake-up event
	p.qcond.L = &p.qmu
	if err := p.sys.init(); err != nil {
		return nil, err
	}
	n := pollWorkers()
	p.wg.Add(n + 1)
	go p.wait()
	for range n {
		go p.work()
	}
	return p, nil
}

// wait is the goroutine waiting in the kernel.
func (p *poller) wait() {
	defer p.wg.Done()
	if err := p.sys.wait(p.ready); err != nil {
		// Not expected to happen: the WebSockets are no longer read, and
		// end with their heartbeat.
		p.log.Error("socketio: waiting for readable WebSockets failed", "err", err)
	}
}

// ready is called by wait for each event; id 0 stops it.
func (p *poller) ready(id uint64) bool {
	if id == 0 {
		return false
	}
	idx, gen := uint32(id), uint32(id>>32)
	p.mu.Lock()
	var w *wsConn
	if int(idx) < len(p.slots) && p.slots[idx].gen == gen {
		w = p.slots[idx].w
	}
	p.mu.Unlock()
	if w != nil {
		w.schedule()
	}
	return true
}

// work is a worker goroutine.
func (p *poller) work() {
	defer p.wg.Done()
	buf := make([]byte, readBufSize)
	for {
		p.qmu.Lock()
		for len(p.queue) == 0 && !p.stopped {
			p.qcond.Wait()
		}
		if p.stopped {
			p.qmu.Unlock()
			return
		}
		w := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		if len(p.queue) == 0 {
			p.queue = nil
		}
		p.qmu.Unlock()
		w.onReady(buf)
	}
}

// enqueue hands w to a worker. It never blocks (callers may hold c.mu).
func (p *poller) enqueue(w *wsConn) {
	p.qmu.Lock()
	p.queue = append(p.queue, w)
	p.qmu.Unlock()
	p.qcond.Signal()
}

// add gives w an id in the table.
func (p *poller) add(w *wsConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var idx uint32
	if n := len(p.free); n > 0 {
		idx = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		idx = uint32(len(p.slots))
		p.slots = append(p.slots, slot{})
	}
	s := &p.slots[idx]
	s.gen++
	if s.gen == 0 {
		s.gen = 1
	}
	s.w = w
	w.pid = uint64(s.gen)<<32 | uint64(idx)
}

// forget frees w's id.
func (p *poller) forget(w *wsConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	idx := uint32(w.pid)
	if s := &p.slots[idx]; s.w == w {
		s.w = nil
		p.free = append(p.free, idx)
	}
}

// stop ends the waiting goroutine and the workers. Every connection must
// have finished.
func (p *poller) stop() {
	p.sys.wake()
	p.qmu.Lock()
	p.stopped = true
	p.qmu.Unlock()
	p.qcond.Broadcast()
	p.wg.Wait()
	p.sys.close()
}

// startReading starts reading w: on the server's poller when w's network
// connection exposes a file descriptor and the poller is available, on a
// goroutine of its own otherwise. A read timeout set before (see
// setReadTimeout) must be set after preparePoll and before startReading.
func (s *Server) startReading(w *wsConn) {
	if w.poll == nil {
		go w.run()
		return
	}
	if len(w.pre) > 0 {
		// Handshake leftovers: parsed with the first burst.
		b := w.pre
		w.in = &b
		w.pre = nil
	}
	w.poll.enqueue(w)
}

// preparePoll decides how w is read (see startReading).
func (s *Server) preparePoll(w *wsConn) {
	if s.cfg.GoroutineReader || forceGoroutineReader {
		return
	}
	sc, ok := w.nc.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	p := s.getPoller()
	if p == nil {
		return
	}
	w.poll, w.rc = p, rc
	p.add(w)
}

// forceGoroutineReader makes every server use the reader goroutine (tests).
var forceGoroutineReader bool

// getPoller returns the server's poller, starting it on first use; nil if
// it cannot run here.
func (s *Server) getPoller() *poller {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if s.poll == nil && !s.pollFailed {
		p, err := newPoller(s)
		if err != nil {
			s.pollFailed = true
			if err != errNoPoller {
				s.log.Warn("socketio: no readiness poller, reading each WebSocket on a goroutine", "err", err)
			}
			return nil
		}
		s.poll = p
	}
	return s.poll
}

// stopPoller stops the poller once every connection ended (Shutdown).
func (s *Server) stopPoller() {
	s.pollMu.Lock()
	p := s.poll
	s.poll = nil
	s.pollMu.Unlock()
	if p != nil {
		p.stop()
	}
}

// schedule hands w to a worker unless someone already owns its read side.
func (w *wsConn) schedule() {
	w.pmu.Lock()
	if w.pst != pollArmed {
		w.pmu.Unlock()
		return
	}
	w.pst = pollBusy
	w.pmu.Unlock()
	w.poll.enqueue(w)
}

// onReady runs on a worker: it reads what is available and hands it to a
// transient goroutine, or re-arms the connection when there was nothing.
func (w *wsConn) onReady(buf []byte) {
	if !w.isExpired() {
		w.readBurst(buf)
		if w.rerr == nil && (w.in == nil || len(*w.in) == 0) && w.rearm() {
			return
		}
	}
	go w.process()
}

func (w *wsConn) isExpired() bool {
	w.pmu.Lock()
	defer w.pmu.Unlock()
	return w.expired
}

// readBurst reads without blocking, into buf (the worker's own buffer),
// and appends what it read to w.in, after the bytes of an incomplete frame
// kept from the previous burst. So the bytes handed over take the room they
// need, not a read buffer's.
func (w *wsConn) readBurst(buf []byte) {
	bp := w.in
	for total := 0; total < maxReadBurst; {
		n, err := sysRead(w.rc, buf)
		if n > 0 {
			if bp == nil {
				bp = getBuf()
			}
			*bp = append(*bp, buf[:n]...)
			total += n
		}
		if err == errWouldBlock {
			break
		}
		if err != nil {
			w.rerr = err
			break
		}
		if n == 0 {
			w.rerr = io.EOF
			break
		}
		if n < len(buf) {
			// Drained, most likely; if not, the re-armed connection is
			// reported again at once.
			break
		}
	}
	w.in = bp
}

// process parses and handles the bytes of a burst, on a transient
// goroutine, like run does on the reader goroutine; then it re-arms the
// connection or finishes it.
func (w *wsConn) process() {
	var err error
	if w.isExpired() {
		err = os.ErrDeadlineExceeded
	} else if w.in != nil {
		err = w.parse()
	}
	if err == nil && w.rerr != nil {
		err = w.rerr
	}
	if err == nil {
		if w.rearm() {
			return
		}
		err = os.ErrDeadlineExceeded
	}
	if err != errStopReading {
		w.readFailed(err)
	}
	w.pollFinish()
}

// parse handles every complete frame of w.in and keeps the bytes of an
// incomplete one. It returns errStopReading when the handlers asked to stop
// reading, or the error that ends the connection.
func (w *wsConn) parse() error {
	bp := w.in
	w.pre = *bp
	var err error
	for len(w.pre) > 0 {
		if err = w.parseFrame(); err != nil {
			break
		}
	}
	rest := w.pre
	w.pre = nil
	switch {
	case err != nil && err != errNeedMore:
		putBuf(bp)
		w.in = nil
		return err
	case len(rest) == 0:
		putBuf(bp)
		w.in = nil
	case len(rest) <= keepSmallTail && cap(*bp) > keepSmallTail:
		tail := append([]byte(nil), rest...)
		putBuf(bp)
		w.in = &tail
	default:
		*bp = (*bp)[:copy(*bp, rest)]
	}
	return nil
}

// parseFrame handles the frame at the start of w.pre, or returns
// errNeedMore, leaving w.pre as it was, when it is not complete yet. Data
// frames are gathered in w.msg until the message is complete.
func (w *wsConn) parseFrame() error {
	start := w.pre
	h, err := ws.ReadHeaderBuffer(w, w.hdr[:])
	if err == errNeedMore {
		w.pre = start
		return err
	}
	state := ws.StateServerSide
	if w.msg != nil {
		state = state.Set(ws.StateFragmented)
	}
	if err == nil {
		err = ws.CheckHeader(h, state)
	}
	if err != nil {
		return err
	}
	if !h.OpCode.IsControl() {
		var have int64
		if w.msg != nil {
			have = int64(len(*w.msg))
		}
		if have+h.Length > w.c.srv.cfg.MaxPayload {
			return errTooLarge
		}
	}
	if int64(len(w.pre)) < h.Length {
		w.pre = start
		return errNeedMore
	}
	if h.OpCode.IsControl() {
		return w.handleControl(h)
	}
	if w.msg == nil {
		w.msg = getBuf()
		w.msgOp = h.OpCode
	}
	if err := w.readPayload(w.msg, h); err != nil {
		return err
	}
	if !h.Fin {
		return nil
	}
	bp := w.msg
	w.msg = nil
	ok := w.handle(w.msgOp, *bp)
	putBuf(bp)
	if !ok {
		return errStopReading
	}
	return nil
}

// rearm registers the connection again for its next data. It returns
// false, keeping the ownership, when the read timeout expired or the
// connection cannot be registered (it was closed): the caller finishes it.
func (w *wsConn) rearm() bool {
	w.pmu.Lock()
	if w.expired {
		w.pmu.Unlock()
		return false
	}
	// Armed before the kernel may report it, or the event would be
	// dropped; and nothing of w may be written after arm.
	w.pst = pollArmed
	add := !w.added
	w.added = true
	w.pmu.Unlock()
	if err := w.poll.sys.arm(w, add); err == nil {
		return true
	}
	w.pmu.Lock()
	mine := w.pst == pollArmed
	if mine {
		w.pst = pollBusy
		w.added = w.added && !add
	}
	w.pmu.Unlock()
	// When it is not ours any more, a timer or a writer handed it to a
	// worker meanwhile, which finds the connection closed.
	return !mine
}

// pollFinish unregisters the connection, then finishes it like the reader
// goroutine does.
func (w *wsConn) pollFinish() {
	w.pmu.Lock()
	w.pst = pollDone
	t := w.timer
	w.timer = nil
	w.pmu.Unlock()
	if t != nil {
		t.Stop()
	}
	w.poll.sys.del(w)
	w.poll.forget(w)
	putBuf(w.in)
	w.in = nil
	putBuf(w.msg)
	w.msg = nil
	w.finish()
}

// setReadTimeout bounds the wait for the next frames: the connection
// finishes if it is still open after d (a read deadline for the reader
// goroutine, a timer for a polled connection).
func (w *wsConn) setReadTimeout(d time.Duration) {
	if w.poll == nil {
		w.nc.SetReadDeadline(time.Now().Add(d))
		return
	}
	w.pmu.Lock()
	defer w.pmu.Unlock()
	if w.pst == pollDone {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = time.AfterFunc(d, w.expire)
}

// clearReadTimeout removes the read timeout.
func (w *wsConn) clearReadTimeout() {
	if w.poll == nil {
		w.nc.SetReadDeadline(time.Time{})
		return
	}
	w.pmu.Lock()
	t := w.timer
	w.timer = nil
	w.pmu.Unlock()
	if t != nil {
		t.Stop()
	}
}

// expire runs when the read timeout fires.
// A worker that owns the connection meanwhile sees expired before it
// re-arms (rearm refuses an expired connection).
func (w *wsConn) expire() {
	w.pmu.Lock()
	w.expired = true
	w.timer = nil
	w.pmu.Unlock()
	w.schedule()
}

// unprepare undoes preparePoll for a connection that is closed before it
// was read.
func (w *wsConn) unprepare() {
	if w.poll != nil {
		w.poll.forget(w)
		w.pmu.Lock()
		w.pst = pollDone
		t := w.timer
		w.timer = nil
		w.pmu.Unlock()
		if t != nil {
			t.Stop()
		}
	}
}
