package transport

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// Module is one feature served by a Transport: its REST routes and its
// Socket.IO namespaces. RoomsModule, AccountsModule, BillingModule,
// QueueModule, SessionModule, OptinModule, ChatModule and
// ModerationModule are the features of
// rendezvous; a host application adds its own the same way, by listing
// them in Config.Modules.
type Module interface {
	// Register adds the module's routes and namespaces through r. It runs
	// once, in New, in the order of Config.Modules; an error fails New.
	// The module may keep r to use its helpers while serving.
	Register(r *Registrar) error
}

// HandlerFunc is a REST handler. A returned error is written as the JSON
// error body, with the status of its Kind (HTTPStatus); a panic becomes a
// logged 500.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one REST endpoint of a Module.
type Route struct {
	// Method is the HTTP method, such as "POST".
	Method string
	// Path is the ServeMux pattern's path under Config.Prefix, such as
	// "/rooms/{code}".
	Path string
	// Handler serves the route.
	Handler HandlerFunc
	// Unthrottled exempts the route from the per-IP rate limit
	// (Config.ThrottleLimit), as for a webhook called from a few addresses.
	Unthrottled bool
	// Webhook names the provider of a webhook route ("stripe", say): its
	// outcomes are counted by Config.Metrics (rendezvous_webhooks_total).
	// Default "": not a webhook.
	Webhook string
}

// Registrar is what a Transport gives its modules: the registration of
// routes and namespaces, and the core's helpers (error writing, the client
// IP, the per-user socket cap, the logger). Its methods are safe to call
// while serving, except Handle, which only counts before Mount.
type Registrar struct {
	t *Transport
}

// Handle registers a REST route. Every route gets the error writing of
// HandlerFunc, CORS, an OPTIONS preflight and, unless Unthrottled, the
// per-IP rate limit.
func (r *Registrar) Handle(rt Route) error {
	if rt.Method == "" || !strings.HasPrefix(rt.Path, "/") || rt.Handler == nil {
		return errors.New(`transport: a Route needs a Method, a Path starting with "/" and a Handler`)
	}
	r.t.routes = append(r.t.routes, rt)
	return nil
}

// Of returns the Socket.IO namespace name, creating it on first use.
func (r *Registrar) Of(name string) *socketio.Namespace { return r.t.io.Of(name) }

// UserNamespace is Transport.UserNamespace: a namespace whose sockets must
// present an access token that authn accepts.
func (r *Registrar) UserNamespace(name string, authn Authenticator, next socketio.ConnectHandler) *socketio.Namespace {
	return r.t.UserNamespace(name, authn, next)
}

// WithUser wraps a handler of an authenticated route: the request must
// carry an "Authorization: Bearer" access token that authn accepts, else
// it fails with TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED or
// TOKEN_REVOKED; h gets the Principal, also in the request context
// (PrincipalFrom).
func (r *Registrar) WithUser(authn Authenticator, h UserHandler) HandlerFunc {
	return withUser(authn, h)
}

// WriteError writes err as the JSON error body, as a HandlerFunc's
// returned error is.
func (r *Registrar) WriteError(w http.ResponseWriter, req *http.Request, err error) {
	r.t.writeError(w, req, err)
}

// Payload turns err into what a client may see, for a socket event's
// error: internal errors are logged with attrs and their details, and
// answer the generic UNKNOWN_ERROR.
func (r *Registrar) Payload(ctx context.Context, err error, attrs ...slog.Attr) ErrorPayload {
	_, p := r.t.public(ctx, err, attrs...)
	return p
}

// ConnectError turns err into the refusal of a connect handler in
// namespace: the client gets a CONNECT_ERROR {"message", "data": {"code"}},
// with the Details of err's *rendezvous.Error beside "code".
func (r *Registrar) ConnectError(ctx context.Context, namespace string, err error) error {
	return r.t.connectError(ctx, namespace, err)
}

// AcquireSocket takes a slot of the per-user socket cap
// (Config.MaxSocketsPerUser) for s, a socket of userID connecting to its
// namespace, or returns ErrTooManySockets. Call it in the connect handler
// before anything is written or published; the slot is given back when
// the socket ends, or earlier by ReleaseSocket. UserNamespace does it.
func (r *Registrar) AcquireSocket(s *socketio.Socket, userID string) error {
	return r.t.sockets.acquire(s, userID)
}

// ReleaseSocket gives back the slot s holds, if any. A disconnect handler
// that publishes calls it first, so that a reconnecting client is not
// refused meanwhile.
func (r *Registrar) ReleaseSocket(s *socketio.Socket) { r.t.sockets.release(s) }

// ClientIP is the client IP of req, as the rate limits see it
// (Config.TrustProxy, Config.TrustedProxies).
func (r *Registrar) ClientIP(req *http.Request) string { return r.t.clientIP(req) }

// Prefix is Config.Prefix, without a trailing slash ("" for none).
func (r *Registrar) Prefix() string { return r.t.cfg.Prefix }

// Logger is Config.Logger (a silent one by default).
func (r *Registrar) Logger() *slog.Logger { return r.t.log }
