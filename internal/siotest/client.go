package siotest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// bufferedConn reads what the dialer buffered before the connection.
type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// Packet is one Socket.IO packet received by the client.
type Packet struct {
	Type      int    // 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR
	Namespace string // "/" when absent
	ID        int    // ack id, -1 when absent
	Data      json.RawMessage
	Received  time.Time // when the client read it
}

// Event returns the event name and arguments of an EVENT packet.
func (p Packet) Event() (name string, args []json.RawMessage) {
	var all []json.RawMessage
	if json.Unmarshal(p.Data, &all) != nil || len(all) == 0 {
		return "", nil
	}
	_ = json.Unmarshal(all[0], &name)
	return name, all[1:]
}

// Client is one Engine.IO connection.
type Client struct {
	conn   net.Conn
	wmu    sync.Mutex
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []Packet
	closed error
	nextID int
}

// ErrTimeout is returned when an awaited packet does not arrive in time.
var ErrTimeout = errors.New("siotest: timed out")

// Dial opens a WebSocket connection to the Socket.IO endpoint of base (for
// example "http://127.0.0.1:3000"), path "/socket.io/", and reads the
// Engine.IO handshake.
func Dial(ctx context.Context, base string, header map[string]string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path = strings.TrimRight(u.Path, "/") + "/socket.io/"
	u.RawQuery = "EIO=4&transport=websocket"
	d := ws.Dialer{}
	if len(header) > 0 {
		h := make(ws.HandshakeHeaderHTTP)
		for k, v := range header {
			h[k] = []string{v}
		}
		d.Header = h
	}
	conn, br, _, err := d.Dial(ctx, u.String())
	if err != nil {
		return nil, err
	}
	if br != nil {
		// The server may have sent its first frames with the upgrade
		// response: read those before the connection.
		conn = &bufferedConn{Conn: conn, r: io.MultiReader(br, conn)}
	}
	c := &Client{conn: conn}
	c.cond = sync.NewCond(&c.mu)
	msg, err := wsutil.ReadServerText(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if len(msg) == 0 || msg[0] != '0' {
		conn.Close()
		return nil, fmt.Errorf("siotest: unexpected handshake %q", msg)
	}
	go c.read()
	return c, nil
}

func (c *Client) read() {
	for {
		msg, err := wsutil.ReadServerText(c.conn)
		if err != nil {
			c.fail(err)
			return
		}
		if len(msg) == 0 {
			continue
		}
		switch msg[0] {
		case '2': // ping
			c.write("3")
		case '1': // close
			c.fail(errors.New("siotest: server closed the connection"))
			return
		case '4':
			p, err := parse(string(msg[1:]))
			p.Received = time.Now()
			if err != nil {
				c.fail(err)
				return
			}
			c.mu.Lock()
			c.queue = append(c.queue, p)
			c.cond.Broadcast()
			c.mu.Unlock()
		}
	}
}

func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.closed == nil {
		c.closed = err
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	c.conn.Close()
}

func parse(s string) (Packet, error) {
	p := Packet{ID: -1, Namespace: "/"}
	if s == "" || s[0] < '0' || s[0] > '6' {
		return p, fmt.Errorf("siotest: bad packet %q", s)
	}
	p.Type = int(s[0] - '0')
	s = s[1:]
	if strings.HasPrefix(s, "/") {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			p.Namespace, s = s, ""
		} else {
			p.Namespace, s = s[:i], s[i+1:]
		}
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 {
		p.ID, _ = strconv.Atoi(s[:i])
		s = s[i:]
	}
	if s != "" {
		p.Data = json.RawMessage(s)
	}
	return p, nil
}

func (c *Client) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return wsutil.WriteClientText(c.conn, []byte(s))
}

func nsPrefix(ns string) string {
	if ns == "/" || ns == "" {
		return ""
	}
	return ns + ","
}

// Send writes a raw Engine.IO packet, for tests of malformed input.
func (c *Client) Send(raw string) error { return c.write(raw) }

// Connect joins namespace ns with the handshake auth payload (nil for
// none). It returns the CONNECT or CONNECT_ERROR packet.
func (c *Client) Connect(ns string, auth any, timeout time.Duration) (Packet, error) {
	s := "40" + nsPrefix(ns)
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return Packet{}, err
		}
		s += string(b)
	}
	if err := c.write(s); err != nil {
		return Packet{}, err
	}
	return c.Wait(timeout, func(p Packet) bool { return p.Namespace == nsOr(ns) && (p.Type == 0 || p.Type == 4) })
}

func nsOr(ns string) string {
	if ns == "" {
		return "/"
	}
	return ns
}

// Emit sends an event without asking for an acknowledgement.
func (c *Client) Emit(ns, event string, args ...any) error {
	b, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return err
	}
	return c.write("42" + nsPrefix(ns) + string(b))
}

// EmitAck sends an event and waits for its acknowledgement's arguments.
func (c *Client) EmitAck(ns, event string, timeout time.Duration, args ...any) ([]json.RawMessage, error) {
	b, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	c.mu.Unlock()
	if err := c.write("42" + nsPrefix(ns) + strconv.Itoa(id) + string(b)); err != nil {
		return nil, err
	}
	p, err := c.Wait(timeout, func(p Packet) bool { return p.Type == 3 && p.ID == id && p.Namespace == nsOr(ns) })
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	err = json.Unmarshal(p.Data, &out)
	return out, err
}

// Wait removes and returns the first buffered or future packet that match
// accepts.
func (c *Client) Wait(timeout time.Duration, match func(Packet) bool) (Packet, error) {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer t.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for i, p := range c.queue {
			if match(p) {
				c.queue = append(c.queue[:i:i], c.queue[i+1:]...)
				return p, nil
			}
		}
		if c.closed != nil {
			return Packet{}, c.closed
		}
		if !time.Now().Before(deadline) {
			return Packet{}, ErrTimeout
		}
		c.cond.Wait()
	}
}

// WaitPacket waits for the event name on ns and returns its packet.
func (c *Client) WaitPacket(ns, name string, timeout time.Duration) (Packet, error) {
	p, err := c.Wait(timeout, func(p Packet) bool {
		n, _ := p.Event()
		return p.Type == 2 && p.Namespace == nsOr(ns) && n == name
	})
	if err != nil {
		return Packet{}, fmt.Errorf("waiting for %s on %s: %w", name, ns, err)
	}
	return p, nil
}

// WaitEvent waits for the event name on ns and returns its first argument
// (nil when it has none).
func (c *Client) WaitEvent(ns, name string, timeout time.Duration) (json.RawMessage, error) {
	p, err := c.WaitPacket(ns, name, timeout)
	if err != nil {
		return nil, err
	}
	_, args := p.Event()
	if len(args) == 0 {
		return nil, nil
	}
	return args[0], nil
}

// WaitDisconnect waits until the server disconnects ns (a DISCONNECT
// packet) or closes the connection.
func (c *Client) WaitDisconnect(ns string, timeout time.Duration) error {
	_, err := c.Wait(timeout, func(p Packet) bool { return p.Type == 1 && p.Namespace == nsOr(ns) })
	if err != nil && !errors.Is(err, ErrTimeout) {
		return nil // connection closed
	}
	return err
}

// Events returns the names of the buffered events on ns, without removing
// them.
func (c *Client) Events(ns string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, p := range c.queue {
		if n, _ := p.Event(); p.Type == 2 && p.Namespace == nsOr(ns) {
			names = append(names, n)
		}
	}
	return names
}

// Discard drops every buffered packet.
func (c *Client) Discard() {
	c.mu.Lock()
	c.queue = nil
	c.mu.Unlock()
}

// Close closes the connection.
func (c *Client) Close() error {
	c.fail(errors.New("siotest: closed"))
	return nil
}
