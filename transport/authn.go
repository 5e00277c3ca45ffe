package transport

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// Authenticator checks an access token and returns its user. auth.Service
// is one; Authenticated, UserNamespace and Registrar.WithUser depend on
// nothing else, so a test may pass a fake. token is never empty (a missing
// token fails with auth.ErrTokenMissing before the call).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// UserHandler is a handler of an authenticated route; p is the user of the
// request's access token.
type UserHandler func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

type principalKey struct{}

// PrincipalFrom returns the authenticated user of a request that passed
// Authenticated or Registrar.WithUser.
func PrincipalFrom(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}

// authenticate checks a token with authn; an empty token is TOKEN_MISSING.
func authenticate(ctx context.Context, authn Authenticator, token string) (auth.Principal, error) {
	if token == "" {
		return auth.Principal{}, auth.ErrTokenMissing
	}
	return authn.Authenticate(ctx, token)
}

func withUser(authn Authenticator, h UserHandler) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := authenticate(r.Context(), authn, bearer(r))
		if err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), p)
	}
}

// Authenticated is the HTTP middleware of the dating product's endpoints:
// it requires an access token in "Authorization: Bearer" that authn
// accepts (an auth.Service, say) and puts the auth.Principal in the
// request context (PrincipalFrom). Failures are 401 with TOKEN_MISSING,
// TOKEN_INVALID, TOKEN_EXPIRED or TOKEN_REVOKED.
func (t *Transport) Authenticated(authn Authenticator, next http.Handler) http.Handler {
	return t.handle(withUser(authn, func(w http.ResponseWriter, r *http.Request, _ auth.Principal) error {
		next.ServeHTTP(w, r)
		return nil
	}))
}

// UserNamespace returns the Socket.IO namespace name guarded by access
// tokens: at connect the token (handshake auth.token, or an Authorization:
// Bearer header) must be one authn accepts (an auth.Service checks that it
// is valid and unrevoked), else the client gets a CONNECT_ERROR with
// data.code TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED or TOKEN_REVOKED; a
// user who already has Config.MaxSocketsPerUser sockets in the namespace on
// this instance gets TOO_MANY_SOCKETS, before next runs. An accepted socket
// joins rendezvous.UserTarget(userID), so events published to that target
// reach it, and carries its auth.Principal (SocketPrincipal). next, when
// not nil, runs after the check, as the namespace's own connect handler.
//
// The dating product's namespaces (/queue, /video, /chat) use it; so may a
// host application's own. Register event handlers on the returned
// namespace, but do not replace its connect handler with OnConnect.
func (t *Transport) UserNamespace(name string, authn Authenticator, next socketio.ConnectHandler) *socketio.Namespace {
	if authn == nil {
		panic("transport: UserNamespace needs an Authenticator")
	}
	ns := t.io.Of(name)
	ns.OnConnect(func(ctx context.Context, s *socketio.Socket, authData json.RawMessage) error {
		p, err := authenticate(ctx, authn, handshakeToken(s, authData))
		if err != nil {
			return t.connectError(ctx, name, err)
		}
		if err := t.sockets.acquire(s, p.UserID); err != nil {
			return t.connectError(ctx, name, err)
		}
		socketPrincipalKey.Set(s, p)
		s.Join(rv.UserTarget(p.UserID))
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
	return socketPrincipalKey.Get(s)
}

// socketPrincipalKey holds the auth.Principal of a socket accepted by
// UserNamespace.
var socketPrincipalKey = socketio.NewKey[auth.Principal]("transport.principal")

// connectError turns err into the CONNECT_ERROR a client sees:
// {"message": …, "data": {"code": …}}, with the error's Details beside
// "code" (never replacing it).
func (t *Transport) connectError(ctx context.Context, namespace string, err error) error {
	_, p, d := t.publicDetailed(ctx, err, slog.String("namespace", namespace))
	t.cfg.Metrics.ObserveRefusal(p.Code)
	if len(d) == 0 {
		return &socketio.ConnectError{Message: p.Message, Data: map[string]string{"code": p.Code}}
	}
	fields := encodeDetails(d)
	data := make(map[string]any, len(fields)+1)
	for _, f := range fields {
		data[f.key] = f.value
	}
	data["code"] = p.Code
	return &socketio.ConnectError{Message: p.Message, Data: data}
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
