package siotest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// leanHead is how many bytes of a message a Lean client keeps: enough for
// the Engine.IO and Socket.IO prefixes, a namespace and an event name, and
// for any WebSocket control frame (at most 125 bytes).
const leanHead = 128

// leanReadBuffer is the size of a Lean client's read buffer: a few small
// frames per read system call, when the server sends them back to back.
const leanReadBuffer = 2048

// Lean is a Socket.IO client for load generation: one WebSocket joined to
// one namespace, which keeps at most the first 128 bytes of a message
// (enough to recognise it) and no queue. It answers Engine.IO pings and
// WebSocket pings, counts the pings and events it receives, and reports
// each event's name to a callback. It is what cmd/rvload opens by the
// thousand, so that the client costs less than the server it measures;
// tests that need the payloads use Client.
type Lean struct {
	conn   net.Conn
	r      *bufio.Reader
	prefix []byte // "42" + namespace + "," ("42" for "/")
	wmu    sync.Mutex
	pings  atomic.Int64
	events atomic.Int64
	head   [leanHead]byte
}

// ErrConnectRefused wraps the CONNECT_ERROR packet returned by DialLean.
var ErrConnectRefused = errors.New("siotest: connect refused")

// DialLean opens a WebSocket to the Socket.IO endpoint of base (for
// example "http://127.0.0.1:3000", path "/socket.io/"), reads the Engine.IO
// handshake, sends a Socket.IO CONNECT for namespace ns with auth (a JSON
// object, nil for none) and returns once the server has acknowledged it.
// A CONNECT_ERROR is returned as an error wrapping ErrConnectRefused,
// with the start of the packet. Nothing is read after the acknowledgement
// until Run is called.
func DialLean(ctx context.Context, base, ns string, auth []byte) (*Lean, error) {
	return LeanDialer{}.Dial(ctx, base, ns, auth)
}

// LeanDialer dials Lean clients with a TCP dial function of its own.
type LeanDialer struct {
	// NetDial opens the TCP connection; nil uses a net.Dialer.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Dial is DialLean through d.NetDial.
func (d LeanDialer) Dial(ctx context.Context, base, ns string, auth []byte) (*Lean, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path = strings.TrimRight(u.Path, "/") + "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	conn, br, _, err := ws.Dialer{NetDial: d.NetDial}.Dial(ctx, u.String())
	if err != nil {
		return nil, err
	}
	var src io.Reader = conn
	if br != nil {
		// Frames sent with the upgrade response: read them first, then
		// the connection, through a buffer of our own.
		early := bytes.Clone(must(br.Peek(br.Buffered())))
		ws.PutReader(br)
		src = io.MultiReader(bytes.NewReader(early), conn)
	}
	c := &Lean{conn: conn, r: bufio.NewReaderSize(src, leanReadBuffer)}
	if ns == "" {
		ns = "/"
	}
	nsp := ""
	if ns != "/" {
		nsp = ns + ","
	}
	c.prefix = []byte("42" + nsp)
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	if err := c.connect(nsp, auth); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return c, nil
}

func must(b []byte, _ error) []byte { return b }

// connect reads the Engine.IO open packet, sends CONNECT and waits for its
// answer, answering pings on the way.
func (c *Lean) connect(nsp string, auth []byte) error {
	msg, _, err := c.next()
	if err != nil {
		return err
	}
	if len(msg) == 0 || msg[0] != '0' {
		return fmt.Errorf("siotest: unexpected handshake %q", msg)
	}
	if err := c.write("40" + nsp + string(auth)); err != nil {
		return err
	}
	ok, refused := "40"+nsp, "44"+nsp
	for {
		msg, _, err := c.next()
		if err != nil {
			return err
		}
		switch {
		case c.control(msg):
		case bytes.HasPrefix(msg, []byte(ok)) && (nsp != "" || len(msg) == 2 || msg[2] == '{'):
			return nil
		case bytes.HasPrefix(msg, []byte(refused)):
			return fmt.Errorf("%w: %s", ErrConnectRefused, msg)
		}
	}
}

// control handles the Engine.IO packets every state answers (ping) and
// reports whether msg was one.
func (c *Lean) control(msg []byte) bool {
	if len(msg) == 1 && msg[0] == '2' {
		c.pings.Add(1)
		_ = c.write("3")
		return true
	}
	return false
}

// next returns the first bytes of the next text or binary message (at
// most leanHead; the rest is skipped) and its full length. WebSocket pings
// are answered, pongs skipped, a close frame ends the connection (io.EOF).
// The returned slice is valid until the next call.
func (c *Lean) next() ([]byte, int, error) {
	for {
		fin, op, n, err := c.header()
		if err != nil {
			return nil, 0, err
		}
		keep := min(n, leanHead)
		if _, err := io.ReadFull(c.r, c.head[:keep]); err != nil {
			return nil, 0, err
		}
		if _, err := c.r.Discard(n - keep); err != nil {
			return nil, 0, err
		}
		switch op {
		case ws.OpText, ws.OpBinary:
			if !fin {
				// A fragmented message: keep its start, skip the
				// continuation frames (the server never sends any today).
				if err := c.skipContinuation(); err != nil {
					return nil, 0, err
				}
			}
			return c.head[:keep], n, nil
		case ws.OpPing:
			c.wmu.Lock()
			err := ws.WriteFrame(c.conn, ws.MaskFrameInPlace(ws.NewPongFrame(bytes.Clone(c.head[:keep]))))
			c.wmu.Unlock()
			if err != nil {
				return nil, 0, err
			}
		case ws.OpClose:
			return nil, 0, io.EOF
		}
	}
}

func (c *Lean) skipContinuation() error {
	for {
		fin, _, n, err := c.header()
		if err != nil {
			return err
		}
		if _, err := c.r.Discard(n); err != nil {
			return err
		}
		if fin {
			return nil
		}
	}
}

// header reads a frame header (RFC 6455 §5.2). Server frames are not
// masked; a masked one is refused.
func (c *Lean) header() (fin bool, op ws.OpCode, n int, err error) {
	b0, err := c.r.ReadByte()
	if err != nil {
		return false, 0, 0, err
	}
	b1, err := c.r.ReadByte()
	if err != nil {
		return false, 0, 0, err
	}
	if b1&0x80 != 0 {
		return false, 0, 0, errors.New("siotest: masked frame from the server")
	}
	fin, op = b0&0x80 != 0, ws.OpCode(b0&0x0f)
	var ext [8]byte
	switch l := int(b1 & 0x7f); l {
	case 126:
		if _, err := io.ReadFull(c.r, ext[:2]); err != nil {
			return false, 0, 0, err
		}
		n = int(binary.BigEndian.Uint16(ext[:2]))
	case 127:
		if _, err := io.ReadFull(c.r, ext[:]); err != nil {
			return false, 0, 0, err
		}
		v := binary.BigEndian.Uint64(ext[:])
		if v > 1<<30 {
			return false, 0, 0, errors.New("siotest: frame too large")
		}
		n = int(v)
	default:
		n = l
	}
	return fin, op, n, nil
}

func (c *Lean) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return wsutil.WriteClientText(c.conn, []byte(s))
}

// Run reads the connection until it ends and returns why (io.EOF after a
// close frame or an Engine.IO close packet). It answers pings, and for
// every EVENT on the namespace it calls onEvent, when not nil, with the
// event's name (valid during the call only) and the time the message was
// read. Run is called once, from one goroutine.
func (c *Lean) Run(onEvent func(name []byte, at time.Time)) error {
	for {
		msg, _, err := c.next()
		if err != nil {
			return err
		}
		switch {
		case c.control(msg):
		case len(msg) == 1 && msg[0] == '1':
			return io.EOF
		case bytes.HasPrefix(msg, c.prefix):
			c.events.Add(1)
			if onEvent != nil {
				at := time.Now()
				onEvent(eventName(msg[len(c.prefix):]), at)
			}
		}
	}
}

// eventName is the name of an EVENT packet's body: an optional ack id,
// then `["name"`. It is empty when the name does not fit in the head kept.
func eventName(b []byte) []byte {
	for len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		b = b[1:]
	}
	if !bytes.HasPrefix(b, []byte(`["`)) {
		return nil
	}
	b = b[2:]
	if i := bytes.IndexByte(b, '"'); i >= 0 {
		return b[:i]
	}
	return nil
}

// Emit sends an EVENT on the namespace; args is the JSON text of the
// arguments after the name ("" for none), for example `"hi",{"n":1}`.
func (c *Lean) Emit(event, args string) error {
	s := string(c.prefix) + `["` + event + `"`
	if args != "" {
		s += "," + args
	}
	return c.write(s + "]")
}

// Pings is the number of Engine.IO pings received and answered.
func (c *Lean) Pings() int64 { return c.pings.Load() }

// Events is the number of EVENT packets received on the namespace by Run.
func (c *Lean) Events() int64 { return c.events.Load() }

// Close closes the connection (Run then returns an error).
func (c *Lean) Close() error { return c.conn.Close() }
