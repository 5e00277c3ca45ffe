package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// QueueService is what the queue module calls: the methods of the
// matchmaking service behind the /queue endpoints and the /queue
// namespace.
type QueueService interface {
	// Join puts userID in the queue of region (one token is debited), or
	// answers StatusAlreadyQueued; preferences is the raw JSON object of
	// the request, nil when absent.
	Join(ctx context.Context, userID, region string, preferences json.RawMessage) (matchmaking.JoinResult, error)
	// Leave takes userID out of the queue, with a refund.
	Leave(ctx context.Context, userID string) (matchmaking.LeaveResult, error)
	// Status tells where userID stands.
	Status(ctx context.Context, userID string) (matchmaking.StatusResult, error)
	// SocketConnected records a connected /queue socket of userID and
	// returns the Notice of a removal made in the user's absence, if any,
	// for that socket.
	SocketConnected(ctx context.Context, userID, socketID string) (*matchmaking.Notice, error)
	// SocketRefresh keeps the socket's presence live for PresenceTTL.
	SocketRefresh(ctx context.Context, userID, socketID string) error
	// SocketDisconnected removes the socket's presence.
	SocketDisconnected(ctx context.Context, userID, socketID string) error
	// PresenceTTL is how long a socket counts as present without a
	// refresh; the module refreshes every PresenceTTL/3. It is read once,
	// when the module is registered, and must be at least
	// MinQueuePresenceTTL.
	PresenceTTL() time.Duration
}

// MinQueuePresenceTTL is the least QueueService.PresenceTTL that
// QueueModule accepts: sockets are refreshed every PresenceTTL/3.
const MinQueuePresenceTTL = 30 * time.Millisecond

// QueueConfig configures QueueModule.
type QueueConfig struct {
	// Service serves the queue. Required; the matchmaking service.
	Service QueueService
	// Authenticator checks the access tokens of the endpoints and of the
	// /queue namespace. Required; the accounts' *auth.Service.
	Authenticator Authenticator
	// Gate, when set, decides at connect whether userID may open a /queue
	// socket: an error refuses it with a CONNECT_ERROR carrying the
	// error's code and Details (moderation's USER_BANNED with "until",
	// say), after the token check and before anything else happens for
	// the socket (no SocketConnected, no presence).
	Gate func(ctx context.Context, userID string) error
}

// QueueModule serves the matchmaking queue: POST /queue/join (201 when
// queued, 200 when already queued), DELETE /queue/leave and GET
// /queue/status, all for a signed-in user, and the /queue namespace
// (matchmaking.Namespace), whose sockets need an access token. Each
// connected socket is reported to the service (SocketConnected; a Notice
// it returns is sent to that socket as queue:left), refreshed every
// PresenceTTL/3 while it stays, and reported gone once when it
// disconnects (SocketDisconnected); QueueConfig.Gate may refuse a user's
// sockets before any of that. Failures of these steps are logged at
// WARN and leave the socket connected. The events the service publishes
// (match, queue:left) reach the user's /queue sockets through the Broker.
func QueueModule(cfg QueueConfig) Module { return &queueModule{cfg: cfg} }

type queueModule struct {
	cfg QueueConfig
	reg *Registrar
	ttl time.Duration
}

// queuePresenceKey holds a connected /queue socket's refresh timer.
var queuePresenceKey = socketio.NewKey[*refresher]("transport.queue.presence")

func (m *queueModule) Register(r *Registrar) error {
	if m.cfg.Service == nil {
		return errors.New("transport: QueueConfig.Service is required")
	}
	if m.cfg.Authenticator == nil {
		return errors.New("transport: QueueConfig.Authenticator is required")
	}
	m.ttl = m.cfg.Service.PresenceTTL()
	if m.ttl < MinQueuePresenceTTL {
		return fmt.Errorf("transport: QueueConfig.Service.PresenceTTL is %s, below the minimum %s", m.ttl, MinQueuePresenceTTL)
	}
	m.reg = r
	withUser := func(h UserHandler) HandlerFunc { return r.WithUser(m.cfg.Authenticator, h) }
	for _, rt := range []Route{
		{Method: "POST", Path: "/queue/join", Handler: withUser(m.join)},
		{Method: "DELETE", Path: "/queue/leave", Handler: withUser(m.leave)},
		{Method: "GET", Path: "/queue/status", Handler: withUser(m.status)},
	} {
		if err := r.Handle(rt); err != nil {
			return err
		}
	}
	ns := r.UserNamespace(matchmaking.Namespace, m.cfg.Authenticator, gateConnect(r, matchmaking.Namespace, m.cfg.Gate))
	ns.OnConnected(m.connected)
	ns.OnDisconnect(m.disconnected)
	return nil
}

// POST /queue/join {"region", "preferences"?} → 201 or 200 JoinResult
func (m *queueModule) join(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		Region      json.RawMessage `json:"region"`
		Preferences json.RawMessage `json:"preferences"`
	}
	if err := DecodeBody(w, r, &req); err != nil {
		return err
	}
	var region string
	if raw := bytes.TrimSpace(req.Region); len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &region) != nil {
		return matchmaking.ErrInvalidRegion
	}
	prefs := json.RawMessage(bytes.TrimSpace(req.Preferences))
	if len(prefs) == 0 || string(prefs) == "null" {
		prefs = nil
	}
	res, err := m.cfg.Service.Join(r.Context(), p.UserID, region, prefs)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Status == matchmaking.StatusQueued {
		status = http.StatusCreated
	}
	WriteJSON(w, status, res)
	return nil
}

// DELETE /queue/leave → LeaveResult
func (m *queueModule) leave(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	res, err := m.cfg.Service.Leave(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, res)
	return nil
}

// GET /queue/status → StatusResult
func (m *queueModule) status(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	res, err := m.cfg.Service.Status(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, res)
	return nil
}

// connected runs the connected step of a /queue socket: the service
// records it (and may hand back a Notice for this socket), and its
// refresh timer starts, even when the record failed (the first refresh
// writes it).
func (m *queueModule) connected(s *socketio.Socket) {
	p, ok := SocketPrincipal(s)
	if !ok {
		return
	}
	ref := &refresher{every: m.ttl / 3, refresh: func() { m.refresh(s, p.UserID) }}
	queuePresenceKey.Set(s, ref)
	ctx, cancel := context.WithTimeout(s.Context(), eventTimeout)
	defer cancel()
	notice, err := m.cfg.Service.SocketConnected(ctx, p.UserID, s.ID())
	switch {
	case err != nil:
		if s.Context().Err() == nil { // else the socket is already going
			hookFailed(ctx, m.reg, s, "connect", err)
		}
	case notice != nil:
		_ = s.Emit(matchmaking.EventLeft, notice)
	}
	ref.start()
}

// refresh runs on the timer's goroutine, while the socket is connected.
func (m *queueModule) refresh(s *socketio.Socket, userID string) {
	ctx, cancel := context.WithTimeout(s.Context(), eventTimeout)
	defer cancel()
	if err := m.cfg.Service.SocketRefresh(ctx, userID, s.ID()); err != nil && s.Context().Err() == nil {
		hookFailed(ctx, m.reg, s, "refresh", err)
	}
}

// disconnected runs exactly once for every socket whose connected step
// ran: the refresh stops (after the one in flight, if any), then the
// service removes the socket's presence, with a context of its own since
// the socket's is canceled by now.
func (m *queueModule) disconnected(s *socketio.Socket, _ string) {
	m.reg.ReleaseSocket(s) // before the service can publish anything
	if ref, ok := queuePresenceKey.Get(s); ok {
		ref.stop()
	}
	p, ok := SocketPrincipal(s)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	if err := m.cfg.Service.SocketDisconnected(ctx, p.UserID, s.ID()); err != nil {
		hookFailed(ctx, m.reg, s, "disconnect", err)
	}
}

// gateConnect is the connect handler, after UserNamespace's checks, that
// refuses the sockets whose user gate refuses; nil without a gate.
func gateConnect(r *Registrar, namespace string, gate func(ctx context.Context, userID string) error) socketio.ConnectHandler {
	if gate == nil {
		return nil
	}
	return func(ctx context.Context, s *socketio.Socket, _ json.RawMessage) error {
		p, _ := SocketPrincipal(s)
		if err := gate(ctx, p.UserID); err != nil {
			return r.ConnectError(ctx, namespace, err)
		}
		return nil
	}
}

// hookFailed logs, at WARN, the failure of a socket lifecycle step that
// the socket survives.
func hookFailed(ctx context.Context, r *Registrar, s *socketio.Socket, step string, err error) {
	attrs := []slog.Attr{
		slog.String("namespace", s.Namespace()), slog.String("step", step),
		slog.String("socket", s.ID()), slog.String("code", rv.AsError(err).Code), slog.Any("err", err),
	}
	if p, ok := SocketPrincipal(s); ok {
		attrs = append(attrs, slog.String("user", p.UserID))
	}
	r.Logger().LogAttrs(ctx, slog.LevelWarn, "socket "+step+" failed", attrs...)
}

// refresher calls refresh every period on a timer of its own, from start
// until stop.
type refresher struct {
	every   time.Duration
	refresh func()

	mu    sync.Mutex // held by a refresh, so that stop waits for it
	timer *time.Timer
	done  bool
}

func (f *refresher) start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.done && f.timer == nil {
		f.timer = time.AfterFunc(f.every, f.tick)
	}
}

// stop ends the refreshes for good; it returns once none is running.
func (f *refresher) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	if f.timer != nil {
		f.timer.Stop()
	}
}

// tick runs on the timer's goroutine.
func (f *refresher) tick() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	f.refresh()
	f.timer.Reset(f.every)
}
