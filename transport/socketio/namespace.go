package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
)

// Disconnect reasons passed to OnDisconnect handlers. They match the
// reasons of the reference JavaScript server.
const (
	reasonClientDisconnect = "client namespace disconnect"
	reasonServerDisconnect = "server namespace disconnect"
	reasonServerShutdown   = "server shutting down"
)

// ConnectHandler is the connecting step of a socket: it authorizes a
// connection to a namespace. auth is the payload
// of the client's CONNECT packet (the "auth" option of socket.io-client), nil
// when there is none. ctx is the socket's context.
//
// Returning an error refuses the connection: the client receives a
// CONNECT_ERROR packet whose payload is {"message": e.Message, "data": e.Data}
// when the error wraps a *ConnectError (data is omitted when nil), and
// {"message": err.Error()} otherwise. The Engine.IO connection stays open, so
// the client may still connect to other namespaces.
//
// Returning nil accepts it: the client receives CONNECT {"sid": ...}. Events
// emitted on s from inside the handler are queued and delivered right after
// that CONNECT packet, in order, so the handler may send initial state with
// s.Emit. Rooms joined inside the handler take effect when the socket is
// connected.
//
// The connection may still fail after the handler accepted it (the
// transport can close before the CONNECT packet is queued), and OnDisconnect
// is not called for a socket that never reached the connected step. So a
// ConnectHandler should only decide and prepare; side effects that need
// undoing on disconnect (presence, counters, subscriptions) belong in the
// OnConnected handler, which OnDisconnect always pairs with.
type ConnectHandler func(ctx context.Context, s *Socket, auth json.RawMessage) error

// ConnectError is an error that controls the CONNECT_ERROR payload sent to
// the client when a ConnectHandler refuses a connection.
type ConnectError struct {
	// Message becomes the message of the client-side Error.
	Message string
	// Data is marshalled as JSON into the data field of the client-side
	// Error (omitted when nil).
	Data any
}

// Error implements the error interface.
func (e *ConnectError) Error() string { return e.Message }

// EventHandler handles an event received from a client.
type EventHandler func(s *Socket, ev *Event)

// Event is an event received from a client.
type Event struct {
	// Name is the event name.
	Name string
	// Args are the JSON arguments after the event name.
	Args []json.RawMessage
	// Attachments are the binary attachments of a BINARY_EVENT packet, in
	// order. The {"_placeholder":true,"num":N} objects stay in Args.
	Attachments [][]byte
	// Ack is non-nil when the client requested an acknowledgement. Calling
	// it sends an ACK packet with the given arguments, marshalled as JSON
	// (top-level []byte arguments are sent as binary attachments). Only the
	// first call has an effect; it may be called after the handler
	// returned.
	Ack func(args ...any)
}

// Arg unmarshals the i-th argument into v.
func (e *Event) Arg(i int, v any) error {
	if i < 0 || i >= len(e.Args) {
		return fmt.Errorf("socketio: event %q has no argument %d", clip(e.Name), i)
	}
	return json.Unmarshal(e.Args[i], v)
}

// Attachment returns the binary attachment that the i-th argument stands
// for, when that argument is a {"_placeholder":true,"num":N} object.
func (e *Event) Attachment(i int) ([]byte, bool) {
	if i < 0 || i >= len(e.Args) || firstNonSpace(e.Args[i]) != '{' {
		return nil, false
	}
	var p struct {
		Placeholder bool `json:"_placeholder"`
		Num         *int `json:"num"`
	}
	if json.Unmarshal(e.Args[i], &p) != nil || !p.Placeholder || p.Num == nil || *p.Num < 0 || *p.Num >= len(e.Attachments) {
		return nil, false
	}
	return e.Attachments[*p.Num], true
}

// Namespace is a Socket.IO namespace ("/" or a name like "/chat"). Its
// handlers should be registered before clients connect; registering later
// is safe but only affects later packets.
//
// Handlers of one client connection (across all its namespaces) run one at
// a time, in the order the packets arrived, on a goroutine of this package
// (usually the connection's reader). A handler that blocks delays the other
// packets of its connection, including heartbeats, but never other
// connections. Handlers that panic are recovered and logged and their
// socket is disconnected.
type Namespace struct {
	srv  *Server
	name string

	hmu           sync.RWMutex
	onConnect     ConnectHandler
	onConnected   func(*Socket)
	onDisconnect  func(*Socket, string)
	handlers      map[string]EventHandler
	onAny         EventHandler
	onRateLimited EventHandler

	// The index of connected sockets and of rooms, guarded by smu. Lists
	// are in no order; each socket keeps its position in them
	// (Socket.nidx, socketRoom.pos), so that removing it is a swap with the
	// last element rather than a search, and a member costs one pointer
	// instead of a map entry.
	smu     sync.RWMutex
	sockets []*Socket
	rooms   map[string][]*Socket
}

func newNamespace(s *Server, name string) *Namespace {
	return &Namespace{
		srv:      s,
		name:     name,
		handlers: make(map[string]EventHandler),
		rooms:    make(map[string][]*Socket),
	}
}

// Name returns the namespace name, such as "/" or "/chat".
func (n *Namespace) Name() string { return n.name }

// OnConnect sets the handler of the connecting step, which authorizes
// connections (see ConnectHandler). Without one every connection is
// accepted. Side effects belong in OnConnected, not here.
func (n *Namespace) OnConnect(h ConnectHandler) {
	n.hmu.Lock()
	n.onConnect = h
	n.hmu.Unlock()
}

// OnConnected sets the handler of the connected step. It runs once per
// accepted socket, after the CONNECT packet (and the events emitted by the
// ConnectHandler) was queued to the client and the socket was registered in
// the namespace and its rooms, and before any event handler of the socket.
// It runs on the connection's handler queue, like the other handlers.
//
// OnDisconnect is called exactly once for every socket whose OnConnected
// ran (or would have run, when no OnConnected handler is set), and never for
// the others: a socket whose transport closed before it reached the
// connected step sees neither. So side effects made here can be undone in
// OnDisconnect. The socket may already be disconnecting while OnConnected
// runs; its OnDisconnect then runs right after. A panic in OnConnected is
// recovered and logged, and the socket is disconnected.
func (n *Namespace) OnConnected(h func(s *Socket)) {
	n.hmu.Lock()
	n.onConnected = h
	n.hmu.Unlock()
}

// OnDisconnect sets the handler called exactly once for every socket that
// reached the connected step (see OnConnected), when it leaves the
// namespace. reason is one of
// "client namespace disconnect", "server namespace disconnect",
// "transport close", "transport error", "ping timeout", "parse error" or
// "server shutting down".
func (n *Namespace) OnDisconnect(h func(s *Socket, reason string)) {
	n.hmu.Lock()
	n.onDisconnect = h
	n.hmu.Unlock()
}

// On sets the handler of the named event, replacing any previous one.
func (n *Namespace) On(event string, h EventHandler) {
	n.hmu.Lock()
	n.handlers[event] = h
	n.hmu.Unlock()
}

// OnAny sets the fallback handler for events that have no handler of their
// own. By default such events are ignored.
func (n *Namespace) OnAny(h EventHandler) {
	n.hmu.Lock()
	n.onAny = h
	n.hmu.Unlock()
}

// OnRateLimited sets the handler of the events that exceed the
// connection's event rate limit (Config.EventRate). It is called instead of
// the handler the event would have run, with the same Event (Ack included),
// so the application can answer in its own error format; events without a
// handler (see On and OnAny) are ignored whether limited or not. Without an
// OnRateLimited handler, limited events are dropped and their
// acknowledgements never sent.
func (n *Namespace) OnRateLimited(h EventHandler) {
	n.hmu.Lock()
	n.onRateLimited = h
	n.hmu.Unlock()
}

// registered returns event when it has a handler of its own (On), and ""
// otherwise.
func (n *Namespace) registered(event string) string {
	n.hmu.RLock()
	_, ok := n.handlers[event]
	n.hmu.RUnlock()
	if ok {
		return event
	}
	return ""
}

// handler returns the handler of event, or the OnRateLimited handler when
// limited and event has a handler, or nil.
func (n *Namespace) handler(event string, limited bool) EventHandler {
	n.hmu.RLock()
	defer n.hmu.RUnlock()
	h := n.handlers[event]
	if h == nil {
		h = n.onAny
	}
	if limited && h != nil {
		return n.onRateLimited
	}
	return h
}

// Emit sends an event to every socket of this namespace connected to this
// server that joined room, or to all of them when room is "". The packet is
// encoded once, and framed for WebSocket once: every WebSocket recipient
// writes the same bytes in one write, every polling recipient queues the
// same packet. Large rooms are written by a few goroutines at once (at most
// GOMAXPROCS; see sendAll), and Emit returns when every recipient has been
// written to (or has queued what its socket did not take yet). Arguments are
// marshalled as JSON, except top-level []byte arguments, which are sent as
// binary attachments (a BINARY_EVENT packet; []byte nested in other values
// is marshalled as a base64 string). Errors are logged.
func (n *Namespace) Emit(room string, event string, args ...any) {
	msg, err := encodeEvent(n.name, event, -1, args)
	if err != nil {
		n.srv.log.Error("socketio: cannot encode event", "nsp", n.name, "event", event, "err", err)
		return
	}
	eventsEncoded.Add(1)
	targets := n.members(room)
	if len(*targets) > 0 {
		sendAll(*targets, newSharedFrame(msg))
	}
	if f := n.srv.cfg.OnEventOut; f != nil {
		f(n.name, event, len(*targets))
	}
	releaseMembers(targets)
}

// Message is one event of EmitBatch: its name and arguments, as Emit takes
// them.
type Message struct {
	Event string
	Args  []any
}

// EmitBatch sends msgs, in order, to every local socket in room (every
// socket of the namespace when room is ""), as consecutive calls of Emit
// would, but written to each WebSocket recipient in one write: each message
// is encoded once and the batch is framed once for all recipients. It is
// for callers that have several events for the same room at hand (a
// backlog of deliveries): under load it turns N writes per recipient into
// one. A message that cannot be encoded is logged and left out.
func (n *Namespace) EmitBatch(room string, msgs []Message) {
	if len(msgs) == 0 {
		return
	}
	out := make([]outMsg, 0, len(msgs))
	sent := msgs // the messages encoded; a copy only once one fails
	for i, m := range msgs {
		msg, err := encodeEvent(n.name, m.Event, -1, m.Args)
		if err != nil {
			n.srv.log.Error("socketio: cannot encode event", "nsp", n.name, "event", m.Event, "err", err)
			if len(sent) == len(msgs) {
				sent = append([]Message(nil), msgs[:i]...)
			}
			continue
		}
		eventsEncoded.Add(1)
		out = append(out, msg)
		if len(sent) != len(msgs) {
			sent = append(sent, m)
		}
	}
	targets := n.members(room)
	if len(*targets) > 0 && len(out) > 0 {
		sendAll(*targets, newSharedFrame(out...))
	}
	if f := n.srv.cfg.OnEventOut; f != nil {
		for _, m := range sent {
			f(n.name, m.Event, len(*targets))
		}
	}
	releaseMembers(targets)
}

// DisconnectRoom disconnects from this namespace every local socket in room
// (every socket when room is ""): each client receives a DISCONNECT packet
// and OnDisconnect runs with reason "server namespace disconnect".
//
// It returns without waiting for any handler: the sockets leave the
// namespace index at once (RoomSize and later broadcasts no longer count
// them), and their disconnection is queued on their connection's handler
// queue, so it never runs on the caller's goroutine. A socket's DISCONNECT
// packet follows whatever was sent to it before, including events emitted
// before DisconnectRoom was called and the acknowledgement of the handler
// its connection is running: a client whose event made the server
// disconnect it (a "leave" event, say) receives the event's acknowledgement
// first.
func (n *Namespace) DisconnectRoom(room string) {
	targets := n.members(room)
	for _, s := range *targets {
		if s.markClosing() {
			s.conn.ser.goDo(func() { s.closeSocket(reasonServerDisconnect, true) })
		}
	}
	releaseMembers(targets)
}

// RoomSize returns the number of local sockets in room, or the number of
// connected sockets of the namespace when room is "".
func (n *Namespace) RoomSize(room string) int {
	n.smu.RLock()
	defer n.smu.RUnlock()
	if room == "" {
		return len(n.sockets)
	}
	return len(n.rooms[room])
}

var membersPool = sync.Pool{New: func() any { s := make([]*Socket, 0, 64); return &s }}

// members snapshots the sockets of room so that no lock is held while
// writing to them.
func (n *Namespace) members(room string) *[]*Socket {
	out := membersPool.Get().(*[]*Socket)
	list := (*out)[:0]
	n.smu.RLock()
	set := n.sockets
	if room != "" {
		set = n.rooms[room]
	}
	list = append(list, set...)
	n.smu.RUnlock()
	*out = list
	return out
}

func releaseMembers(p *[]*Socket) {
	clear(*p)
	if cap(*p) > 1<<16 {
		return
	}
	*p = (*p)[:0]
	membersPool.Put(p)
}

// addLocked indexes a socket that just connected. s.mu must be held.
func (n *Namespace) addLocked(s *Socket) {
	n.smu.Lock()
	if s.nidx == 0 {
		n.sockets = append(n.sockets, s)
		s.nidx = int32(len(n.sockets))
	}
	for i := range s.rooms {
		n.joinLocked(s, i)
	}
	n.smu.Unlock()
}

// removeLocked drops a socket from the index, its rooms included; it does
// nothing for what is not indexed. s.mu must be held.
func (n *Namespace) removeLocked(s *Socket) {
	n.smu.Lock()
	if s.nidx != 0 {
		j := int(s.nidx) - 1
		last := len(n.sockets) - 1
		if j != last {
			t := n.sockets[last]
			n.sockets[j] = t
			t.nidx = int32(j + 1)
		}
		n.sockets[last] = nil
		n.sockets = shrinkList(n.sockets[:last])
		s.nidx = 0
	}
	for i := range s.rooms {
		n.leaveLocked(s, i)
	}
	n.smu.Unlock()
}

// joinLocked adds s to its room s.rooms[i] if it is not there yet. n.smu
// must be held for writing, and s.mu.
func (n *Namespace) joinLocked(s *Socket, i int) {
	r := &s.rooms[i]
	if r.pos != 0 {
		return
	}
	l := append(n.rooms[r.name], s)
	n.rooms[r.name] = l
	r.pos = int32(len(l))
}

// leaveLocked removes s from its room s.rooms[i] if it is there. n.smu
// must be held for writing, and s.mu. The socket moved into its place has
// its position updated, under n.smu only: positions are read and written
// only with n.smu held for writing.
func (n *Namespace) leaveLocked(s *Socket, i int) {
	r := &s.rooms[i]
	if r.pos == 0 {
		return
	}
	l := n.rooms[r.name]
	j := int(r.pos) - 1
	last := len(l) - 1
	if j != last {
		t := l[last]
		l[j] = t
		t.setRoomPos(r.name, int32(j+1))
	}
	l[last] = nil
	if last == 0 {
		delete(n.rooms, r.name)
	} else {
		n.rooms[r.name] = shrinkList(l[:last])
	}
	r.pos = 0
}

// shrinkList gives back the memory of a list that emptied to a quarter of
// its capacity.
func shrinkList(l []*Socket) []*Socket {
	if cap(l) > 16 && len(l) < cap(l)/4 {
		return slices.Clone(l)
	}
	return l
}

// connect runs the CONNECT handshake of a client on this namespace. It runs
// on the connection's handler queue.
func (n *Namespace) connect(c *conn, auth []byte) {
	s := &Socket{id: newID(), nsp: n, conn: c}
	if !c.addSocket(s) {
		return
	}
	n.hmu.RLock()
	h := n.onConnect
	n.hmu.RUnlock()
	var err error
	if h != nil {
		err = n.runConnect(h, s, auth)
	}
	if err != nil {
		s.mu.Lock()
		if s.state != socketConnecting {
			// The connection closed while the handler ran.
			s.mu.Unlock()
			return
		}
		s.state = socketDisconnected
		s.takePendingLocked()
		n.removeLocked(s)
		left := roomList(s.rooms)
		s.rooms = nil
		fns := s.cancelLocked()
		s.mu.Unlock()
		n.srv.roomsLeft(n.name, left)
		runAfterFuncs(fns)
		c.removeSocket(s)
		c.send(encodeMessage(sioConnectError, n.name, -1, connectErrorPayload(err)))
		return
	}

	if h := n.srv.hookAuthorized; h != nil {
		h(s)
	}
	s.mu.Lock()
	if s.state != socketConnecting {
		// The connection closed while the handler ran.
		s.mu.Unlock()
		return
	}
	// Index the socket before the client learns it is connected, so that
	// RoomSize and broadcasts count it from then on; holding s.mu keeps
	// their writes behind the CONNECT packet and the pending events.
	if !c.markConnected() {
		// The session closed after the handler returned: closeWith
		// disconnects the socket, which never reaches the connected step.
		s.mu.Unlock()
		return
	}
	s.state = socketConnected
	n.addLocked(s)
	sid, _ := json.Marshal(struct {
		SID string `json:"sid"`
	}{s.id})
	c.send(encodeMessage(sioConnect, n.name, -1, sid))
	for _, msg := range s.takePendingLocked() {
		c.send(msg.pkt, msg.atts...)
	}
	s.mu.Unlock()

	if h := n.srv.hookConnected; h != nil {
		h(s)
	}
	// The connected step. It runs unless the socket was disconnected, or
	// its session closed, since the CONNECT packet was queued; its
	// OnDisconnect, queued behind this function, checks connectedRan.
	s.mu.Lock()
	ran := s.state == socketConnected && c.isOpen()
	s.connectedRan = ran
	kill := s.killAfterConnect
	s.mu.Unlock()
	if !ran {
		return
	}
	n.hmu.RLock()
	hc := n.onConnected
	n.hmu.RUnlock()
	if hc != nil {
		n.runConnected(hc, s)
	}
	if f := n.srv.cfg.OnSocketConnected; f != nil {
		f(s)
	}
	if kill {
		s.closeSocket(reasonServerDisconnect, true)
	}
}

func (n *Namespace) runConnected(h func(*Socket), s *Socket) {
	defer func() {
		if r := recover(); r != nil {
			n.srv.log.Error("socketio: panic in connected handler", "nsp", n.name, "panic", r, "stack", string(debug.Stack()))
			s.closeSocket(reasonServerDisconnect, true)
		}
	}()
	h(s)
}

func (n *Namespace) runConnect(h ConnectHandler, s *Socket, auth []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			n.srv.log.Error("socketio: panic in connect handler", "nsp", n.name, "panic", r, "stack", string(debug.Stack()))
			err = errors.New("internal server error")
		}
	}()
	var a json.RawMessage
	if auth != nil {
		a = auth
	}
	return h(s.Context(), s, a)
}

func connectErrorPayload(err error) []byte {
	var ce *ConnectError
	if errors.As(err, &ce) {
		b, merr := json.Marshal(struct {
			Message string `json:"message"`
			Data    any    `json:"data,omitempty"`
		}{ce.Message, ce.Data})
		if merr == nil {
			return b
		}
		b, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{ce.Message})
		return b
	}
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{err.Error()})
	return b
}

func (n *Namespace) runEvent(h EventHandler, s *Socket, ev *Event) {
	defer func() {
		if r := recover(); r != nil {
			n.srv.log.Error("socketio: panic in event handler", "nsp", n.name, "event", clip(ev.Name), "panic", r, "stack", string(debug.Stack()))
			s.closeSocket(reasonServerDisconnect, true)
		}
	}()
	h(s, ev)
}

func (n *Namespace) runDisconnect(s *Socket, reason string) {
	n.hmu.RLock()
	h := n.onDisconnect
	n.hmu.RUnlock()
	if h == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			n.srv.log.Error("socketio: panic in disconnect handler", "nsp", n.name, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	h(s, reason)
}

func (n *Namespace) runAck(s *Socket, cb func([]json.RawMessage), args []json.RawMessage) {
	defer func() {
		if r := recover(); r != nil {
			n.srv.log.Error("socketio: panic in ack callback", "nsp", n.name, "panic", r, "stack", string(debug.Stack()))
			s.closeSocket(reasonServerDisconnect, true)
		}
	}()
	cb(args)
}

// encodeEvent marshals an EVENT packet as an Engine.IO message. id < 0
// means no acknowledgement is requested. []byte arguments become binary
// attachments (BINARY_EVENT).
func encodeEvent(nsp, event string, id int64, args []any) (outMsg, error) {
	if isReservedEvent(event) {
		return outMsg{}, fmt.Errorf("socketio: %q is a reserved event name", event)
	}
	if msg, ok := encodeVerbatim(nsp, event, id, args); ok {
		return msg, nil
	}
	arr := make([]any, 0, len(args)+1)
	arr = append(arr, event)
	return encodeArgs(sioEvent, nsp, id, arr, args)
}

// encodeVerbatim builds an EVENT packet whose arguments are all
// json.RawMessage (the events a Broker delivers carry one) by copying the
// arguments' bytes, in one allocation, when they are exactly what
// json.Marshal would write: valid, compact JSON with nothing it escapes
// (<, >, & and U+2028, U+2029 in strings), and an event name of printable
// ASCII that needs no escaping. So the bytes a feature encoded once (and
// that a Redis subscriber decoded once) are passed through, not marshalled
// again, and the packet is byte for byte what encodeArgs makes. It reports
// false for anything else, which encodeArgs then encodes.
func encodeVerbatim(nsp, event string, id int64, args []any) (outMsg, bool) {
	size := len(event) + 3
	for i := 0; i < len(event); i++ {
		if c := event[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return outMsg{}, false
		}
	}
	for _, a := range args {
		r, ok := a.(json.RawMessage)
		if !ok || !verbatimJSON(r) {
			return outMsg{}, false
		}
		size += 1 + len(r)
	}
	p := socketPacket{Type: sioEvent, Nsp: nsp}
	if id >= 0 {
		p.ID, p.HasID = uint64(id), true
	}
	pkt := make([]byte, 0, 2+len(nsp)+1+20+size)
	pkt = append(pkt, eioMessage)
	pkt = appendSocketPacket(pkt, &p)
	pkt = append(pkt, '[', '"')
	pkt = append(pkt, event...)
	pkt = append(pkt, '"')
	for _, a := range args {
		pkt = append(pkt, ',')
		pkt = append(pkt, a.(json.RawMessage)...)
	}
	pkt = append(pkt, ']')
	return outMsg{pkt: pkt}, true
}

// verbatimJSON reports whether json.Marshal writes b, a json.RawMessage,
// unchanged: b is valid JSON without whitespace between tokens and without
// the characters json.Marshal escapes in strings.
func verbatimJSON(b []byte) bool {
	if !json.Valid(b) {
		return false
	}
	inString, escaped := false, false
	for i, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			case '<', '>', '&':
				return false
			case 0xe2: // U+2028 and U+2029 are e2 80 a8 and e2 80 a9
				if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xa8 || b[i+2] == 0xa9) {
					return false
				}
			}
		case c == '"':
			inString = true
		case c == ' ', c == '\t', c == '\n', c == '\r':
			return false
		}
	}
	return true
}

// encodeArgs marshals head followed by args as the JSON array payload of a
// typ packet (EVENT or ACK), turning top-level []byte arguments into binary
// attachments (and typ into its BINARY_ variant).
func encodeArgs(typ byte, nsp string, id int64, head, args []any) (outMsg, error) {
	if head == nil {
		head = make([]any, 0, len(args)) // an empty array, not null
	}
	var atts [][]byte
	for _, a := range args {
		if b, ok := a.([]byte); ok {
			head = append(head, placeholder{Placeholder: true, Num: len(atts)})
			atts = append(atts, b)
			continue
		}
		head = append(head, a)
	}
	if len(atts) > maxAttachments {
		return outMsg{}, fmt.Errorf("socketio: more than %d binary arguments", maxAttachments)
	}
	data, err := json.Marshal(head)
	if err != nil {
		return outMsg{}, err
	}
	if len(atts) == 0 {
		return outMsg{pkt: encodeMessage(typ, nsp, id, data)}, nil
	}
	if typ == sioEvent {
		typ = sioBinaryEvent
	} else {
		typ = sioBinaryAck
	}
	return outMsg{pkt: encodeBinaryMessage(typ, nsp, id, len(atts), data), atts: atts}, nil
}

// placeholder stands for a binary attachment in a packet's JSON payload.
type placeholder struct {
	Placeholder bool `json:"_placeholder"`
	Num         int  `json:"num"`
}

// outMsg is an encoded Engine.IO message, followed by the binary
// attachments it announces.
type outMsg struct {
	pkt  []byte
	atts [][]byte
}
