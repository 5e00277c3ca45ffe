package transport

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// roomSession is the state of one socket in /rooms.
type roomSession struct {
	code, userID string
}

// sessionKey holds a /rooms socket's session, set when it is authorized.
var sessionKey = socketio.NewKey[*roomSession]("transport.rooms.session")

// RoomSocket returns the room code and the user id of a socket connected
// to the /rooms namespace of the rooms module, for the host application's
// own event handlers on that namespace (Transport.SocketIO().Of("/rooms")).
// ok is false for any other socket.
func RoomSocket(s *socketio.Socket) (code, userID string, ok bool) {
	sess, ok := sessionKey.Get(s)
	if !ok || sess == nil {
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
	// Connecting: authorize only. The socket joins its targets and gets
	// room:state (a read); nothing is written or published, since the
	// transport may still die before the socket connects.
	ns.OnConnect(func(ctx context.Context, s *socketio.Socket, authData json.RawMessage) error {
		token := handshakeToken(s, authData)
		code, userID, err := m.authenticateSocket(ctx, s, token)
		if err != nil {
			return m.reg.ConnectError(ctx, rooms.Namespace, err)
		}
		snap, err := m.svc.State(ctx, code)
		if err != nil {
			return m.reg.ConnectError(ctx, rooms.Namespace, err)
		}
		for i := range snap.Users {
			if snap.Users[i].ID == userID {
				snap.Users[i].IsConnected = true
			}
		}
		sessionKey.Set(s, &roomSession{code: code, userID: userID})
		s.Join(rv.RoomTarget(code), rv.UserTarget(userID))
		// room:state goes first; user:connected, published once the socket
		// is connected, reaches this socket too, after it.
		return s.Emit(rooms.EventState, snap)
	})
	// Connected: the socket's presence (and user:connected).
	ns.OnConnected(func(s *socketio.Socket) {
		sess, ok := sessionKey.Get(s)
		if !ok {
			return
		}
		m.connected(s, sess)
	})
	// Runs exactly once for every socket whose connected step ran.
	ns.OnDisconnect(func(s *socketio.Socket, reason string) {
		m.reg.ReleaseSocket(s) // before user:disconnected can be published
		sess, ok := sessionKey.Get(s)
		if !ok {
			return
		}
		m.disconnected(s, sess)
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
		sess, ok := sessionKey.Get(s)
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

// authenticateSocket checks the token of a socket connecting to /rooms
// (rooms.Service.Authenticate) and takes the socket's slot of the
// per-user cap, before the connect handler writes or publishes anything.
func (m *roomsModule) authenticateSocket(ctx context.Context, s *socketio.Socket, token string) (code, userID string, err error) {
	code, userID, err = m.svc.Authenticate(ctx, token)
	if err != nil {
		return "", "", err
	}
	if err := m.reg.AcquireSocket(s, userID); err != nil {
		return "", "", err
	}
	return code, userID, nil
}
