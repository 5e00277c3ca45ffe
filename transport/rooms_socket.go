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

func (t *Transport) mountRoomsNamespace() {
	ns := t.rooms
	ns.OnConnect(func(ctx context.Context, s *socketio.Socket, authData json.RawMessage) error {
		token := handshakeToken(s, authData)
		code, userID, err := t.authenticateRoomSocket(ctx, s, token)
		if err != nil {
			return t.connectError(ctx, rooms.Namespace, err)
		}
		sess := &roomSession{code: code, userID: userID}
		s.SetData(sess)
		s.Join(rooms.TargetRoom(code), rooms.TargetUser(userID))
		// room:state goes first; user:connected, published by Connected,
		// reaches this socket too, after it.
		snap, err := t.cfg.Rooms.State(ctx, code)
		if err != nil {
			return t.connectError(ctx, rooms.Namespace, err)
		}
		for i := range snap.Users {
			if snap.Users[i].ID == userID {
				snap.Users[i].IsConnected = true
			}
		}
		if err := s.Emit(rooms.EventState, snap); err != nil {
			return err
		}
		if _, err := t.cfg.Rooms.Connected(ctx, code, userID); err != nil {
			return t.connectError(ctx, rooms.Namespace, err)
		}
		return nil
	})
	ns.OnDisconnect(func(s *socketio.Socket, reason string) {
		t.sockets.release(s) // before user:disconnected can be published
		sess, ok := s.Data().(*roomSession)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
		defer cancel()
		if err := t.cfg.Rooms.Disconnected(ctx, sess.code, sess.userID); err != nil {
			t.public(ctx, err, slog.String("event", "disconnect"))
		}
	})

	ns.On(rooms.EventClose, t.roomEvent(func(ctx context.Context, sess *roomSession, _ json.RawMessage) (Ack, error) {
		return Ack{OK: true}, t.cfg.Rooms.Close(ctx, sess.code, sess.userID)
	}))
	ns.On(rooms.EventLeave, t.roomEvent(func(ctx context.Context, sess *roomSession, _ json.RawMessage) (Ack, error) {
		return Ack{OK: true}, t.cfg.Rooms.Leave(ctx, sess.code, sess.userID)
	}))
	ns.On(rooms.EventKick, t.roomEvent(func(ctx context.Context, sess *roomSession, arg json.RawMessage) (Ack, error) {
		var p struct {
			KickUserID string `json:"kickUserId"`
		}
		if err := decodeArg(arg, &p); err != nil {
			return Ack{}, err
		}
		return Ack{OK: true}, t.cfg.Rooms.Kick(ctx, sess.code, sess.userID, p.KickUserID)
	}))
	ns.On(rooms.EventToggleLock, t.roomEvent(func(ctx context.Context, sess *roomSession, _ json.RawMessage) (Ack, error) {
		locked, err := t.cfg.Rooms.ToggleLock(ctx, sess.code, sess.userID)
		return Ack{OK: true, IsLocked: &locked}, err
	}))
	ns.On(rooms.EventTransferHost, t.roomEvent(func(ctx context.Context, sess *roomSession, arg json.RawMessage) (Ack, error) {
		var p struct {
			NewHostID string `json:"newHostId"`
		}
		if err := decodeArg(arg, &p); err != nil {
			return Ack{}, err
		}
		return Ack{OK: true}, t.cfg.Rooms.TransferHost(ctx, sess.code, sess.userID, p.NewHostID)
	}))
	// Events over the connection's rate limit (socketio.Config.EventRate),
	// the host application's own /rooms events included.
	ns.OnRateLimited(t.roomEvent(func(context.Context, *roomSession, json.RawMessage) (Ack, error) {
		return Ack{}, ErrRateLimited.WithMessage("too many events; slow down")
	}))
}

// connectError turns err into the CONNECT_ERROR a client sees:
// {"message": …, "data": {"code": …}}.
func (t *Transport) connectError(ctx context.Context, namespace string, err error) error {
	_, p := t.public(ctx, err, slog.String("namespace", namespace))
	return &socketio.ConnectError{Message: p.Message, Data: map[string]string{"code": p.Code}}
}

// roomEvent adapts a /rooms event handler: first argument, timeout,
// error:room on failure, and the acknowledgement when asked for.
func (t *Transport) roomEvent(h func(ctx context.Context, sess *roomSession, arg json.RawMessage) (Ack, error)) socketio.EventHandler {
	return func(s *socketio.Socket, ev *socketio.Event) {
		sess, ok := s.Data().(*roomSession)
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
			_, p := t.public(ctx, err, slog.String("event", ev.Name))
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
	if err := decodeStrict(arg, dst); err != nil {
		return rooms.ErrInvalidPayload.WithMessage("%s", rv.AsError(err).Message)
	}
	return nil
}

// handshakeToken takes the token from the handshake auth {"token": …} or,
// failing that, an Authorization: Bearer header of the handshake request.
func handshakeToken(s *socketio.Socket, authData json.RawMessage) string {
	var a struct {
		Token string `json:"token"`
	}
	if len(authData) > 0 && json.Unmarshal(authData, &a) == nil && a.Token != "" {
		return a.Token
	}
	if r := s.Request(); r != nil {
		return bearer(r)
	}
	return ""
}
