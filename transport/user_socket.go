package transport

import (
	"context"
	"encoding/json"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// TargetUser is the Event target that reaches every socket of one user in
// a namespace created with UserNamespace.
func TargetUser(userID string) string { return "user:" + userID }

// UserNamespace returns the Socket.IO namespace name guarded by the access
// token of Config.Accounts: at connect the token (handshake auth.token, or
// an Authorization: Bearer header) must be a valid, unrevoked access token,
// else the client gets a CONNECT_ERROR with data.code TOKEN_MISSING,
// TOKEN_INVALID, TOKEN_EXPIRED or TOKEN_REVOKED; a user who already has
// Config.MaxSocketsPerUser sockets in the namespace on this instance gets
// TOO_MANY_SOCKETS, before next runs. An accepted socket joins
// TargetUser(userID), so events published to that target reach it, and
// carries its auth.Principal (SocketPrincipal). next, when not nil, runs
// after the check, as the namespace's own connect handler.
//
// The dating product's namespaces (/queue, /video, /chat) use it; so may a
// host application's own. Register event handlers on the returned
// namespace, but do not replace its connect handler with OnConnect.
func (t *Transport) UserNamespace(name string, next socketio.ConnectHandler) *socketio.Namespace {
	if t.cfg.Accounts == nil {
		panic("transport: UserNamespace needs Config.Accounts")
	}
	ns := t.io.Of(name)
	ns.OnConnect(func(ctx context.Context, s *socketio.Socket, authData json.RawMessage) error {
		p, err := t.authenticate(ctx, handshakeToken(s, authData))
		if err != nil {
			return t.connectError(ctx, name, err)
		}
		if err := t.sockets.acquire(s, p.UserID); err != nil {
			return t.connectError(ctx, name, err)
		}
		s.SetData(p)
		s.Join(TargetUser(p.UserID))
		if next != nil {
			return next(ctx, s, authData)
		}
		return nil
	})
	return ns
}

// SocketPrincipal returns the user of a socket connected through
// UserNamespace.
func SocketPrincipal(s *socketio.Socket) (auth.Principal, bool) {
	p, ok := s.Data().(auth.Principal)
	return p, ok
}
