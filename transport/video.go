package transport

import (
	"context"
	"errors"
	"net/http"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// SessionService is what the session module calls: the methods of the
// session service behind the /sessions endpoints and the /video
// namespace.
type SessionService interface {
	// Get shows session id to its participant userID (SESSION_NOT_FOUND
	// for anybody else).
	Get(ctx context.Context, userID, id string) (session.View, error)
	// End hangs up session id for its participant userID.
	End(ctx context.Context, userID, id string) (session.View, error)
	// Current returns userID's StartEvent, with fresh credentials, when
	// the user is in a live session; live is false otherwise.
	Current(ctx context.Context, userID string) (ev session.StartEvent, live bool, err error)
}

// SessionConfig configures SessionModule.
type SessionConfig struct {
	// Service serves the sessions. Required; the session service.
	Service SessionService
	// Authenticator checks the access tokens of the endpoints and of the
	// /video namespace. Required; the accounts' *auth.Service.
	Authenticator Authenticator
	// Gate, when set, decides at connect whether userID may open a /video
	// socket: an error refuses it with a CONNECT_ERROR carrying the
	// error's code and Details (moderation's USER_BANNED with "until",
	// say), after the token check and before anything else happens for
	// the socket (no session:start).
	Gate func(ctx context.Context, userID string) error
}

// SessionModule serves the video calls: GET /sessions/{id} and POST
// /sessions/{id}/end (no body, or {}), both for a participant who is
// signed in, and the /video namespace (session.Namespace), whose sockets
// need an access token. A socket that connects while its user is in a
// live session gets session:start with that session's StartEvent, so a
// reloaded client rejoins its call; the events the services publish
// (session:start, session:end, and the optin feature's match:mutual and
// match:non_mutual) reach the user's /video sockets through the Broker.
// SessionConfig.Gate may refuse a user's sockets at connect.
// A failure to look the session up at connect is logged at WARN and
// leaves the socket connected.
func SessionModule(cfg SessionConfig) Module { return &sessionModule{cfg: cfg} }

type sessionModule struct {
	cfg SessionConfig
	reg *Registrar
}

func (m *sessionModule) Register(r *Registrar) error {
	if m.cfg.Service == nil {
		return errors.New("transport: SessionConfig.Service is required")
	}
	if m.cfg.Authenticator == nil {
		return errors.New("transport: SessionConfig.Authenticator is required")
	}
	m.reg = r
	withUser := func(h UserHandler) HandlerFunc { return r.WithUser(m.cfg.Authenticator, h) }
	for _, rt := range []Route{
		{Method: "GET", Path: "/sessions/{id}", Handler: withUser(m.get)},
		{Method: "POST", Path: "/sessions/{id}/end", Handler: withUser(m.end)},
	} {
		if err := r.Handle(rt); err != nil {
			return err
		}
	}
	r.UserNamespace(session.Namespace, m.cfg.Authenticator, gateConnect(r, session.Namespace, m.cfg.Gate)).OnConnected(m.connected)
	return nil
}

// GET /sessions/{id} → View
func (m *sessionModule) get(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	v, err := m.cfg.Service.Get(r.Context(), p.UserID, r.PathValue("id"))
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, v)
	return nil
}

// POST /sessions/{id}/end (empty or {}) → View
func (m *sessionModule) end(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := DecodeBody(w, r, &struct{}{}); err != nil {
		return err
	}
	v, err := m.cfg.Service.End(r.Context(), p.UserID, r.PathValue("id"))
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, v)
	return nil
}

// connected runs the connected step of a /video socket: session:start
// when its user is in a live session.
func (m *sessionModule) connected(s *socketio.Socket) {
	p, ok := SocketPrincipal(s)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(s.Context(), eventTimeout)
	defer cancel()
	ev, live, err := m.cfg.Service.Current(ctx, p.UserID)
	switch {
	case err != nil:
		if s.Context().Err() == nil {
			hookFailed(ctx, m.reg, s, "connect", err)
		}
	case live:
		_ = s.Emit(session.EventStart, ev)
	}
}
