package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrDisconnected is returned when emitting on a socket that is no longer
// connected.
var ErrDisconnected = errors.New("socketio: socket disconnected")

type socketState uint8

const (
	socketConnecting socketState = iota
	socketConnected
	socketDisconnected
)

// Socket is the connection of one client to one namespace. A client
// multiplexing several namespaces over one Engine.IO connection has one
// Socket per namespace. All methods are safe for concurrent use.
type Socket struct {
	id   string
	nsp  *Namespace
	conn *conn

	mu               sync.Mutex
	state            socketState
	killAfterConnect bool
	closing          bool         // DisconnectRoom scheduled the disconnection
	connectedRan     bool         // OnConnected ran (or was due): OnDisconnect pairs with it
	nidx             int32        // 1 + position in nsp.sockets; 0: not indexed
	rooms            []socketRoom // joined rooms, in no order
	values           keyValues    // per-socket values set through Key
	afterFuncs       []afterFunc  // registered through Context (context.AfterFunc)
	x                *socketExtra // what few sockets need, on demand (extra)
}

// socketExtra holds the state of a Socket that an idle socket usually does
// not have, so that the Socket itself stays small: it is allocated on first
// use and dropped when it is empty again (trimExtraLocked).
type socketExtra struct {
	pending []outMsg      // emitted while the connect handler runs
	data    any           // SetData
	done    chan struct{} // created on demand by Context().Done()
	acks    map[uint64]func([]json.RawMessage)
	nextAck uint64
}

// extra returns s.x, allocating it. s.mu must be held.
func (s *Socket) extra() *socketExtra {
	if s.x == nil {
		s.x = &socketExtra{}
	}
	return s.x
}

// trimExtraLocked drops s.x if it holds nothing. s.mu must be held.
func (s *Socket) trimExtraLocked() {
	if x := s.x; x != nil && x.pending == nil && x.data == nil && x.done == nil && x.acks == nil && x.nextAck == 0 {
		s.x = nil
	}
}

// queuePendingLocked keeps msg for after the CONNECT packet. s.mu must be
// held.
func (s *Socket) queuePendingLocked(msg outMsg) {
	x := s.extra()
	x.pending = append(x.pending, msg)
}

// takePendingLocked returns and forgets the messages kept for after the
// CONNECT packet. s.mu must be held.
func (s *Socket) takePendingLocked() []outMsg {
	if s.x == nil {
		return nil
	}
	p := s.x.pending
	s.x.pending = nil
	s.trimExtraLocked()
	return p
}

// ID returns the Socket.IO id of the socket: random, URL-safe and different
// from the Engine.IO session id.
func (s *Socket) ID() string { return s.id }

// Namespace returns the name of the socket's namespace.
func (s *Socket) Namespace() string { return s.nsp.name }

// Transport returns the Engine.IO transport the socket's connection uses
// now: "polling", or "websocket" once it has upgraded.
func (s *Socket) Transport() string {
	if s.conn.wsActive.Load() {
		return "websocket"
	}
	return "polling"
}

// Request returns a copy of what the session kept of the HTTP request that
// opened the Engine.IO connection: its method, URL (with the query), host,
// remote address, TLS state and only these headers: Authorization, Cookie,
// Forwarded, Origin, User-Agent, X-Forwarded-For and X-Real-Ip. A header
// whose values add up to more than 4 KiB is left out, and a handshake whose
// request URI is longer than 4 KiB is refused, so that an idle session holds
// little memory whatever its handshake carried. It has no body. Each call
// returns a new copy.
func (s *Socket) Request() *http.Request { return s.conn.req.request() }

// Join adds the socket to rooms. It does nothing once the socket is
// disconnected. Called from the connect handler, it takes effect at once:
// events emitted to those rooms from then on are queued and delivered right
// after the CONNECT packet, so none is missed between joining and
// connecting.
//
// With Config.OnJoin set, Join calls it with the rooms the socket was not
// in yet before returning.
func (s *Socket) Join(rooms ...string) {
	s.nsp.srv.roomsJoined(s.nsp.name, s.join(rooms))
}

func (s *Socket) join(rooms []string) (joined []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == socketDisconnected || s.closing || len(rooms) == 0 {
		return nil
	}
	s.nsp.smu.Lock()
	defer s.nsp.smu.Unlock()
	for _, r := range rooms {
		if s.roomIndex(r) >= 0 {
			continue
		}
		s.rooms = append(s.rooms, socketRoom{name: r})
		s.nsp.joinLocked(s, len(s.rooms)-1)
		joined = append(joined, r)
	}
	return joined
}

// socketRoom is a room a socket joined.
type socketRoom struct {
	name string
	pos  int32 // 1 + position in the namespace's list of the room; 0: not indexed
}

// roomIndex returns the index of room in s.rooms, or -1. s.mu or s.nsp.smu
// must be held.
func (s *Socket) roomIndex(room string) int {
	for i := range s.rooms {
		if s.rooms[i].name == room {
			return i
		}
	}
	return -1
}

// setRoomPos records the position of s in the list of room. s.nsp.smu
// must be held for writing.
func (s *Socket) setRoomPos(room string, pos int32) {
	if i := s.roomIndex(room); i >= 0 {
		s.rooms[i].pos = pos
	}
}

// Leave removes the socket from rooms. With Config.OnLeave set, it calls it
// with the rooms the socket was in before returning.
func (s *Socket) Leave(rooms ...string) {
	s.nsp.srv.roomsLeft(s.nsp.name, s.leave(rooms))
}

func (s *Socket) leave(rooms []string) (left []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rooms) == 0 {
		return nil
	}
	s.nsp.smu.Lock()
	defer s.nsp.smu.Unlock()
	for _, r := range rooms {
		i := s.roomIndex(r)
		if i < 0 {
			continue
		}
		s.nsp.leaveLocked(s, i)
		last := len(s.rooms) - 1
		s.rooms[i] = s.rooms[last]
		s.rooms[last] = socketRoom{}
		s.rooms = s.rooms[:last]
		left = append(left, r)
	}
	if len(s.rooms) == 0 {
		s.rooms = nil
	}
	return left
}

// Rooms returns the rooms the socket joined, sorted. Unlike the JavaScript
// server, a socket is not implicitly in a room named after its id.
func (s *Socket) Rooms() []string {
	s.mu.Lock()
	out := make([]string, 0, len(s.rooms))
	for i := range s.rooms {
		out = append(out, s.rooms[i].name) // not pos: see leaveLocked
	}
	s.mu.Unlock()
	slices.Sort(out)
	return out
}

// Emit sends an event to the client. Arguments are marshalled as JSON,
// except top-level []byte arguments, which are sent as binary attachments
// (the client receives them as Buffer/ArrayBuffer). It returns
// ErrDisconnected once the socket is disconnected, or the marshalling error.
// Emits made while the connect handler runs are delivered right after the
// CONNECT packet.
func (s *Socket) Emit(event string, args ...any) error {
	msg, err := encodeEvent(s.nsp.name, event, -1, args)
	if err != nil {
		return err
	}
	return s.writeEvent(event, msg)
}

// writeEvent writes an encoded event and reports it to Config.OnEventOut.
func (s *Socket) writeEvent(event string, msg outMsg) error {
	err := s.write(msg)
	if f := s.nsp.srv.cfg.OnEventOut; f != nil && err == nil {
		f(s.nsp.name, event, 1)
	}
	return err
}

// EmitWithAck sends an event requesting an acknowledgement; ack is called
// with the arguments of the client's answer, serialized with the other
// handlers of the connection. ack is never called if the socket disconnects
// first.
func (s *Socket) EmitWithAck(event string, ack func(args []json.RawMessage), args ...any) error {
	s.mu.Lock()
	if s.state == socketDisconnected {
		s.mu.Unlock()
		return ErrDisconnected
	}
	x := s.extra()
	id := x.nextAck
	x.nextAck++
	s.mu.Unlock()
	msg, err := encodeEvent(s.nsp.name, event, int64(id), args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.state == socketDisconnected {
		s.mu.Unlock()
		return ErrDisconnected
	}
	x = s.extra()
	if x.acks == nil {
		x.acks = make(map[uint64]func([]json.RawMessage))
	}
	x.acks[id] = ack
	s.mu.Unlock()
	return s.writeEvent(event, msg)
}

// write sends an encoded message, queueing it while the socket connects.
func (s *Socket) write(msg outMsg) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case socketConnecting:
		s.queuePendingLocked(msg)
		return nil
	case socketConnected:
		if err := s.conn.send(msg.pkt, msg.atts...); err != nil {
			return ErrDisconnected
		}
		return nil
	}
	return ErrDisconnected
}

// Disconnect disconnects the socket from its namespace: the client receives
// a DISCONNECT packet and OnDisconnect runs with reason
// "server namespace disconnect". The Engine.IO connection stays open. Called
// from the connect handler, the socket is disconnected right after being
// connected (after its OnConnected handler ran).
func (s *Socket) Disconnect() {
	s.mu.Lock()
	if s.state == socketConnecting {
		s.killAfterConnect = true
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.closeSocket(reasonServerDisconnect, true)
}

// SetData stores application data (for example authentication claims) on
// the socket.
//
// Deprecated: SetData holds one untyped value shared by every part of the
// application; use a Key, which gives each value its own typed slot.
// SetData and Data keep working and are independent of the Key values.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.extra().data = v
	s.trimExtraLocked()
	s.mu.Unlock()
}

// Data returns the value stored with SetData.
//
// Deprecated: use a Key (see SetData).
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.x == nil {
		return nil
	}
	return s.x.data
}

// Context returns a context that is cancelled when the socket disconnects
// (or when its connection is refused). It carries no values and no
// deadline.
func (s *Socket) Context() context.Context { return (*socketContext)(s) }

// socketContext is the context.Context view of a Socket. It allocates
// nothing until Done or AfterFunc is used.
type socketContext Socket

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (c *socketContext) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *socketContext) Done() <-chan struct{} {
	s := (*Socket)(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == socketDisconnected {
		return closedChan
	}
	x := s.extra()
	if x.done == nil {
		x.done = make(chan struct{})
	}
	return x.done
}

func (c *socketContext) Err() error {
	s := (*Socket)(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == socketDisconnected {
		return context.Canceled
	}
	return nil
}

func (c *socketContext) Value(key any) any { return nil }

func (c *socketContext) String() string { return "socketio.Socket.Context" }

// afterFunc is a function registered through the socket's context; id,
// unique in the process (afterFuncIDs), lets its stop function find it.
type afterFunc struct {
	id uint64
	f  func()
}

var afterFuncIDs atomic.Uint64

// AfterFunc lets context.AfterFunc and derived contexts (WithCancel,
// WithTimeout...) wait for the socket without a watcher goroutine.
func (c *socketContext) AfterFunc(f func()) (stop func() bool) {
	s := (*Socket)(c)
	s.mu.Lock()
	if s.state == socketDisconnected {
		s.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	id := afterFuncIDs.Add(1)
	s.afterFuncs = append(s.afterFuncs, afterFunc{id: id, f: f})
	s.mu.Unlock()
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := range s.afterFuncs {
			if s.afterFuncs[i].id == id {
				s.afterFuncs = slices.Delete(s.afterFuncs, i, i+1)
				if len(s.afterFuncs) == 0 {
					s.afterFuncs = nil
				}
				return true
			}
		}
		return false
	}
}

// cancelLocked ends the socket's context. s.mu must be held and the state
// already be socketDisconnected; the returned functions must be started
// after unlocking.
func (s *Socket) cancelLocked() []afterFunc {
	if s.x != nil && s.x.done != nil {
		close(s.x.done)
		s.x.done = nil // Done returns closedChan from now on
		s.trimExtraLocked()
	}
	fns := s.afterFuncs
	s.afterFuncs = nil
	return fns
}

func runAfterFuncs(fns []afterFunc) {
	for _, a := range fns {
		go a.f()
	}
}

// closeSocket disconnects the socket once. When send is true and the socket
// was connected, a DISCONNECT packet is sent first. OnDisconnect runs on the
// connection's handler queue.
func (s *Socket) closeSocket(reason string, send bool) {
	s.mu.Lock()
	prev := s.state
	if prev == socketDisconnected {
		s.mu.Unlock()
		return
	}
	if send && prev == socketConnecting {
		// A server-side disconnect of a socket whose connect handler is
		// still running: let it connect, then disconnect it, so the client
		// sees CONNECT then DISCONNECT rather than nothing.
		s.killAfterConnect = true
		s.mu.Unlock()
		return
	}
	s.state = socketDisconnected
	if send && prev == socketConnected {
		s.conn.send(encodeMessage(sioDisconnect, s.nsp.name, -1, nil))
	}
	s.nsp.removeLocked(s)
	left := roomList(s.rooms)
	s.rooms = nil
	if s.x != nil {
		s.x.pending = nil
		s.x.acks = nil
	}
	fns := s.cancelLocked()
	s.mu.Unlock()
	s.nsp.srv.roomsLeft(s.nsp.name, left)

	runAfterFuncs(fns)
	s.conn.removeSocket(s)
	if prev == socketConnected {
		s.conn.markDisconnected()
		// Queued behind the connect step, which is running on the queue if
		// the socket has just connected: by the time this runs, it is
		// settled whether OnConnected ran, and OnDisconnect pairs with it.
		s.conn.ser.do(func() {
			s.mu.Lock()
			ran := s.connectedRan
			s.mu.Unlock()
			if ran {
				s.nsp.runDisconnect(s, reason)
				if f := s.nsp.srv.cfg.OnSocketDisconnected; f != nil {
					f(s, reason)
				}
			}
		})
	}
}

// markClosing detaches a connected socket from the namespace index (its
// rooms and RoomSize) at once, so that later broadcasts skip it, while its
// disconnection waits on its connection's queue. It reports whether the
// socket still needs to be disconnected.
func (s *Socket) markClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case socketDisconnected:
		return false
	case socketConnected:
		if !s.closing {
			s.closing = true
			s.nsp.removeLocked(s)
		}
	}
	return true
}

// onEvent runs the handler of an event; limited means the connection is
// over its event rate limit.
func (s *Socket) onEvent(p *socketPacket, limited bool) {
	s.mu.Lock()
	connected := s.state == socketConnected
	s.mu.Unlock()
	if !connected {
		return
	}
	if f := s.nsp.srv.cfg.OnEventIn; f != nil {
		f(s.nsp.name, s.nsp.registered(p.Event))
	}
	h := s.nsp.handler(p.Event, limited)
	if h == nil {
		return
	}
	ev := &Event{Name: p.Event, Args: p.Args, Attachments: p.Binary}
	if p.HasID {
		ev.Ack = s.ackFunc(p.ID)
	}
	s.nsp.runEvent(h, s, ev)
}

func (s *Socket) ackFunc(id uint64) func(args ...any) {
	var sent atomic.Bool
	return func(args ...any) {
		if !sent.CompareAndSwap(false, true) {
			return
		}
		msg, err := encodeArgs(sioAck, s.nsp.name, int64(id), nil, args)
		if err != nil {
			s.nsp.srv.log.Error("socketio: cannot encode ack", "nsp", s.nsp.name, "err", err)
			return
		}
		s.write(msg)
	}
}

func (s *Socket) onAck(p *socketPacket) {
	if !p.HasID {
		return
	}
	var cb func([]json.RawMessage)
	s.mu.Lock()
	if s.x != nil {
		cb = s.x.acks[p.ID]
		delete(s.x.acks, p.ID)
	}
	s.mu.Unlock()
	if cb != nil {
		s.nsp.runAck(s, cb, p.Args)
	}
}

// roomList returns the names of rooms.
func roomList(rooms []socketRoom) []string {
	if len(rooms) == 0 {
		return nil
	}
	out := make([]string, 0, len(rooms))
	for i := range rooms {
		out = append(out, rooms[i].name) // not pos: see leaveLocked
	}
	return out
}

// roomsJoined calls Config.OnJoin.
func (s *Server) roomsJoined(nsp string, rooms []string) {
	if len(rooms) > 0 && s.cfg.OnJoin != nil {
		s.cfg.OnJoin(nsp, rooms)
	}
}

// roomsLeft calls Config.OnLeave.
func (s *Server) roomsLeft(nsp string, rooms []string) {
	if len(rooms) > 0 && s.cfg.OnLeave != nil {
		s.cfg.OnLeave(nsp, rooms)
	}
}
