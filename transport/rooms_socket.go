package transport

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// roomSession is the state of one socket in /rooms: code, userID and s
// never change; the fields after them are guarded by roomSessions.mu
// (state) and roomsModule.mu (batch, gone).
type roomSession struct {
	s            *socketio.Socket
	code, userID string

	state sessionState
	batch *refreshBatch // the presence refresh in flight that holds it, if any
	gone  bool          // disconnected: no refresh may write its entry
}

// sessionState is where a roomSession is in its socket's life.
type sessionState uint8

const (
	sessionPending sessionState = iota // authorized, not yet connected
	sessionClaimed                     // its connected step ran: OnDisconnect ends it
	sessionDropped                     // gone before its connected step: forgotten
)

// roomSessions holds the session of every /rooms socket of the process,
// from its authorization to the end of its disconnect handler. It is one
// map for all modules rather than a socketio.Key, whose per-socket value
// map would cost each socket a few hundred bytes.
var roomSessions = struct {
	mu sync.Mutex
	m  map[*socketio.Socket]*roomSession
}{m: make(map[*socketio.Socket]*roomSession)}

// afterFuncer is the AfterFunc of a socketio.Socket's Context, which
// context.AfterFunc would wrap in a cancellable context of its own.
type afterFuncer interface {
	AfterFunc(f func()) (stop func() bool)
}

// trackSession registers the session of a socket that its connect handler
// has just authorized. If the socket ends before its connected step claims
// the session (claimSession), the session is forgotten.
func trackSession(sess *roomSession) {
	roomSessions.mu.Lock()
	roomSessions.m[sess.s] = sess
	roomSessions.mu.Unlock()
	onSocketEnd(sess.s, func() {
		roomSessions.mu.Lock()
		defer roomSessions.mu.Unlock()
		if sess.state == sessionPending {
			sess.state = sessionDropped
			if roomSessions.m[sess.s] == sess {
				delete(roomSessions.m, sess.s)
			}
		}
	})
}

// onSocketEnd runs f once s's context ends (disconnected, refused, or
// closed while connecting), without the wrapper context.AfterFunc adds.
func onSocketEnd(s *socketio.Socket, f func()) {
	if a, ok := s.Context().(afterFuncer); ok {
		a.AfterFunc(f)
		return
	}
	context.AfterFunc(s.Context(), f)
}

// claimSession returns the session of a socket whose connected step is
// running, or nil if the socket has already ended.
func claimSession(s *socketio.Socket) *roomSession {
	roomSessions.mu.Lock()
	defer roomSessions.mu.Unlock()
	sess := roomSessions.m[s]
	if sess == nil || sess.state != sessionPending {
		return nil
	}
	sess.state = sessionClaimed
	return sess
}

// lookupSession returns the session of s, if it has one.
func lookupSession(s *socketio.Socket) (*roomSession, bool) {
	roomSessions.mu.Lock()
	sess, ok := roomSessions.m[s]
	roomSessions.mu.Unlock()
	return sess, ok
}

// endSession forgets the session of a socket whose disconnect handler ran.
func endSession(sess *roomSession) {
	roomSessions.mu.Lock()
	if roomSessions.m[sess.s] == sess {
		delete(roomSessions.m, sess.s)
	}
	roomSessions.mu.Unlock()
}

// RoomSocket returns the room code and the user id of a socket connected
// to the /rooms namespace of the rooms module, for the host application's
// own event handlers on that namespace (Transport.SocketIO().Of("/rooms")).
// ok is false for any other socket, and once the socket's disconnect
// handler has run.
func RoomSocket(s *socketio.Socket) (code, userID string, ok bool) {
	sess, ok := lookupSession(s)
	if !ok {
		return "", "", false
	}
	return sess.code, sess.userID, true
}

// Ack is the acknowledgement of a client event when the client asked for
// one: {"ok":true, …} on success, {"ok":false,"error":{code,message}} on
// failure.
type Ack struct {
	OK       bool          `json:"ok"`
	Error    *ErrorPayload `json:"error,omitempty"`
	IsLocked *bool         `json:"isLocked,omitempty"`
}

// eventTimeout bounds the store work of one client event.
const eventTimeout = 10 * time.Second

func (m *roomsModule) mountNamespace(ns *socketio.Namespace) {
	// Connecting: authorize only, with one store call (rooms.Service.Admit:
	// token, membership and the room's state). The socket joins its
	// targets and gets room:state; nothing is written or published, since
	// the transport may still die before the socket connects.
	ns.OnConnect(func(sctx context.Context, s *socketio.Socket, authData json.RawMessage) error {
		// Detached from the socket's context (sctx): a context derived
		// from it stays registered on the socket for its whole life.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(sctx), eventTimeout)
		defer cancel()
		adm, err := m.svc.Admit(ctx, handshakeToken(s, authData))
		if err != nil {
			return m.reg.ConnectError(ctx, rooms.Namespace, err)
		}
		if err := m.reg.AcquireSocket(s, adm.UserID); err != nil {
			return m.reg.ConnectError(ctx, rooms.Namespace, err)
		}
		trackSession(&roomSession{s: s, code: adm.Code, userID: adm.UserID})
		s.Join(rv.RoomTarget(adm.Code), rv.UserTarget(adm.UserID))
		// room:state goes first; user:connected, published once the socket
		// is connected, reaches this socket too, after it.
		return s.Emit(rooms.EventState, adm.State)
	})
	// Connected: the socket's presence (and user:connected).
	ns.OnConnected(func(s *socketio.Socket) {
		if sess := claimSession(s); sess != nil {
			m.connected(sess)
		}
	})
	// Runs exactly once for every socket whose connected step ran.
	ns.OnDisconnect(func(s *socketio.Socket, reason string) {
		m.reg.ReleaseSocket(s) // before user:disconnected can be published
		sess, ok := lookupSession(s)
		if !ok {
			return
		}
		m.disconnected(sess)
		endSession(sess)
	})

	ns.On(rooms.EventClose, m.roomEvent(func(ctx context.Context, sess *roomSession, _ json.RawMessage) (Ack, error) {
		return Ack{OK: true}, m.svc.Close(ctx, sess.code, sess.userID)
	}))
	ns.On(rooms.EventLeave, m.roomEvent(func(ctx context.Context, sess *roomSession, _ json.RawMessage) (Ack, error) {
		return Ack{OK: true}, m.svc.Leave(ctx, sess.code, sess.userID)
	}))
	ns.On(rooms.EventKick, m.roomEvent(func(ctx context.Context, sess *roomSession, arg json.RawMessage) (Ack, error) {
		var p struct {
			KickUserID string `json:"kickUserId"`
		}
		if err := decodeArg(arg, &p); err != nil {
			return Ack{}, err
		}
		return Ack{OK: true}, m.svc.Kick(ctx, sess.code, sess.userID, p.KickUserID)
	}))
	ns.On(rooms.EventToggleLock, m.roomEvent(func(ctx context.Context, sess *roomSession, _ json.RawMessage) (Ack, error) {
		locked, err := m.svc.ToggleLock(ctx, sess.code, sess.userID)
		return Ack{OK: true, IsLocked: &locked}, err
	}))
	ns.On(rooms.EventTransferHost, m.roomEvent(func(ctx context.Context, sess *roomSession, arg json.RawMessage) (Ack, error) {
		var p struct {
			NewHostID string `json:"newHostId"`
		}
		if err := decodeArg(arg, &p); err != nil {
			return Ack{}, err
		}
		return Ack{OK: true}, m.svc.TransferHost(ctx, sess.code, sess.userID, p.NewHostID)
	}))
	// Events over the connection's rate limit (socketio.Config.EventRate),
	// the host application's own /rooms events included.
	ns.OnRateLimited(m.roomEvent(func(context.Context, *roomSession, json.RawMessage) (Ack, error) {
		return Ack{}, ErrRateLimited.WithMessage("too many events; slow down")
	}))
}

// roomEvent adapts a /rooms event handler: first argument, timeout,
// error:room on failure, and the acknowledgement when asked for.
func (m *roomsModule) roomEvent(h func(ctx context.Context, sess *roomSession, arg json.RawMessage) (Ack, error)) socketio.EventHandler {
	return func(s *socketio.Socket, ev *socketio.Event) {
		sess, ok := lookupSession(s)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(s.Context(), eventTimeout)
		defer cancel()
		var (
			ack Ack
			err error
		)
		var arg json.RawMessage
		if len(ev.Args) > 0 {
			arg = ev.Args[0]
		}
		ack, err = h(ctx, sess, arg)
		if err != nil {
			p := m.reg.Payload(ctx, err, slog.String("event", ev.Name))
			_ = s.Emit(rooms.EventError, p)
			ack = Ack{Error: &p}
		}
		if ev.Ack != nil {
			ev.Ack(ack)
		}
	}
}

// decodeArg decodes an event's object argument strictly.
func decodeArg(arg json.RawMessage, dst any) error {
	if len(arg) == 0 {
		return rooms.ErrInvalidPayload.WithMessage("the event needs an object argument")
	}
	if err := DecodeStrict(arg, dst); err != nil {
		return rooms.ErrInvalidPayload.WithMessage("%s", rv.AsError(err).Message)
	}
	return nil
}
