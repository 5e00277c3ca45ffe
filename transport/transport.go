package transport

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/metrics"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// Limiter counts requests per key in fixed windows. store/memory and
// store/redis provide implementations; the Redis one is shared by every
// instance.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// Broker carries Events between instances: Notify publishes, Subscribe
// delivers the events published by any instance to the targets this
// instance follows, in order per target. The Transport follows exactly the
// targets (namespace and Socket.IO room) its local sockets are in: Follow
// when a socket joins a room, returning once the events of that room
// published from then on are sure to be delivered; Unfollow when it leaves
// or disconnects. Calls are counted per target, and an Unfollow may come
// before its Follow when a join races a disconnection. store/memory.Broker
// serves one process; store/redis.Broker fans out over Redis pub/sub, one
// channel per target, so that each instance receives only its own share.
type Broker interface {
	rv.Notifier
	Subscribe(ctx context.Context, deliver func(rv.Event)) (unsubscribe func(), err error)
	Follow(ctx context.Context, namespace, target string) error
	Unfollow(namespace, target string)
}

// followTimeout bounds the wait of a socket's Join for the Broker's
// subscription to a target.
const followTimeout = 10 * time.Second

// Config configures a Transport. Zero fields take the documented defaults.
type Config struct {
	// Modules are the features served: their REST routes and Socket.IO
	// namespaces (RoomsModule, AccountsModule, BillingModule, or a host
	// application's own Module). At least one is required.
	Modules []Module
	// Broker delivers events published by the services to the sockets of
	// this instance. Required; it must be the Notifier the services publish
	// to.
	Broker Broker

	// Prefix is prepended to every REST path, e.g. "/api". Default "".
	Prefix string
	// SocketIOPath is where the Socket.IO endpoint is mounted. Default
	// "/socket.io/" (the client's default path).
	SocketIOPath string

	// Limiter enforces ThrottleLimit. Default: no HTTP rate limiting.
	Limiter Limiter
	// ThrottleLimit is the number of requests a client IP may make to one
	// route per ThrottleWindow. 0 disables HTTP rate limiting.
	ThrottleLimit int
	// ThrottleWindow is the rate-limit window. Default one minute.
	ThrottleWindow time.Duration
	// ThrottleSync is how often the HTTP rate limit's local counts are
	// sent to the Limiter, in one batch, when the Limiter is a HitCounter
	// (store/memory and store/redis RateLimiters are): requests are then
	// counted in process, with no round trip once a key is warm, and
	// several instances share the limit with a bounded overshoot (see
	// HitCounter). Default DefaultThrottleSync (100 ms); negative: every
	// request asks the Limiter (exact, one round trip per request).
	ThrottleSync time.Duration
	// TrustProxy takes the client IP of rate limits from X-Forwarded-For
	// instead of the connection's address. Enable it only behind a proxy
	// that appends to the header. Without TrustedProxies exactly one hop is
	// trusted: the right-most entry, as written by the proxy in front of
	// this server, is the client. The left-hand entries come from the
	// client itself and are never used.
	TrustProxy bool
	// TrustedProxies lists the proxy networks in front of this server (for
	// example 10.0.0.0/8), used when TrustProxy is set: the connection's
	// peer must be one of them, else its address is the client IP;
	// X-Forwarded-For is then walked from the right, skipping the entries
	// inside these networks, and the first other entry is the client IP.
	TrustedProxies []netip.Prefix

	// EventRate is the number of Socket.IO packets one connection may send
	// per second on average, and EventBurst how many at once, counting
	// every namespace CONNECT and every event, in all namespaces (the
	// limit of socketio.Config.EventRate). Defaults 10 and 20. A negative
	// EventRate disables the limit.
	EventRate  float64
	EventBurst int

	// CORSOrigins lists the origins allowed to call the REST API and the
	// Socket.IO endpoint from a browser. "*" (the default when empty)
	// allows every origin.
	CORSOrigins []string

	// Ready reports whether the stores are reachable, for GET /readyz.
	// Default: always ready.
	Ready func(ctx context.Context) error

	// PingInterval and PingTimeout are the Engine.IO heartbeat. Defaults
	// 25 s and 20 s.
	PingInterval, PingTimeout time.Duration
	// ConnectTimeout closes an Engine.IO connection that has no socket
	// connected to a namespace for this long: after its handshake, and
	// again after its last namespace socket disconnects. Default 45 s;
	// negative disables.
	ConnectTimeout time.Duration

	// MaxSocketsPerUser is how many sockets one user may have open at once
	// in one namespace (/rooms, those made with UserNamespace, and those whose
	// modules call Registrar.AcquireSocket) on this
	// instance; a connect beyond it gets a CONNECT_ERROR with data.code
	// TOO_MANY_SOCKETS. The count is per instance, not shared through the
	// Broker. Default 5; negative disables the limit.
	MaxSocketsPerUser int
	// ConnectRate is how many new Engine.IO sessions (handshakes) one
	// client IP may open per second on this instance, in bursts of twice
	// that; beyond it the handshake is answered 429 RATE_LIMITED with
	// Retry-After. Requests of an open session are not counted. Default 50;
	// negative disables the limit.
	ConnectRate float64

	// Clock tells the time of the handshake rate limit. Default
	// rendezvous.SystemClock.
	Clock rv.Clock

	// Logger receives request failures. Default: silent.
	Logger *slog.Logger
	// AccessLog logs one INFO line per HTTP request to Logger (method,
	// route pattern, status, duration, client IP and request id), and gives
	// each request an id: its X-Request-Id when sane, else a random one, set
	// on the response and carried by every line logged with the request's
	// context (RequestIDHandler). Default off.
	AccessLog bool
	// Metrics receives the Prometheus metrics of the HTTP requests (by
	// route pattern), the Socket.IO sockets and events, the refusals, the
	// broker's deliveries, the webhooks and the server-side failures.
	// Default nil: no metrics, at no cost.
	Metrics *metrics.Registry
}

// Transport serves the REST API and the Socket.IO endpoint.
type Transport struct {
	cfg    Config
	log    *slog.Logger
	io     *socketio.Server
	routes []Route // registered by the modules

	sockets    *socketCap     // per-user socket cap; nil when disabled
	handshakes *ipLimiter     // per-IP handshake limit; nil when disabled
	fanout     *fanout        // delivers the Broker's events
	local      *localThrottle // local-first HTTP rate limit; nil when off

	mu    sync.Mutex
	unsub func()
}

// New validates cfg and returns a Transport. Call Start before serving and
// Shutdown when done.
func New(cfg Config) (*Transport, error) {
	if len(cfg.Modules) == 0 {
		return nil, errors.New("transport: Config.Modules needs at least one Module")
	}
	if cfg.Broker == nil {
		return nil, errors.New("transport: Config.Broker is required")
	}
	cfg.Prefix = strings.TrimRight(cfg.Prefix, "/")
	if cfg.Prefix != "" && !strings.HasPrefix(cfg.Prefix, "/") {
		return nil, errors.New(`transport: Config.Prefix must start with "/"`)
	}
	if cfg.SocketIOPath == "" {
		cfg.SocketIOPath = "/socket.io/"
	}
	if !strings.HasPrefix(cfg.SocketIOPath, "/") || !strings.HasSuffix(cfg.SocketIOPath, "/") {
		return nil, errors.New(`transport: Config.SocketIOPath must start and end with "/"`)
	}
	if cfg.ThrottleLimit < 0 {
		return nil, errors.New("transport: Config.ThrottleLimit must not be negative")
	}
	if cfg.ThrottleLimit > 0 && cfg.Limiter == nil {
		return nil, errors.New("transport: Config.Limiter is required when ThrottleLimit is set")
	}
	if cfg.ThrottleWindow == 0 {
		cfg.ThrottleWindow = time.Minute
	}
	if cfg.ThrottleWindow < 0 {
		return nil, errors.New("transport: Config.ThrottleWindow must not be negative")
	}
	if cfg.ThrottleSync == 0 {
		cfg.ThrottleSync = DefaultThrottleSync
	}
	if cfg.EventRate == 0 {
		cfg.EventRate = 10
	}
	if cfg.EventBurst == 0 {
		cfg.EventBurst = 20
	}
	if len(cfg.CORSOrigins) == 0 {
		cfg.CORSOrigins = []string{"*"}
	}
	if cfg.Ready == nil {
		cfg.Ready = func(context.Context) error { return nil }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := limitDefaults(&cfg); err != nil {
		return nil, err
	}
	t := &Transport{cfg: cfg, log: cfg.Logger}
	scfg := socketio.Config{
		PingInterval:   cfg.PingInterval,
		PingTimeout:    cfg.PingTimeout,
		ConnectTimeout: cfg.ConnectTimeout,
		CheckOrigin:    t.originAllowed,
		Logger:         cfg.Logger,
		EventRate:      cfg.EventRate, // negative: no limit
		EventBurst:     cfg.EventBurst,
		OnJoin:         t.follow,
		OnLeave:        t.unfollow,
	}
	t.initObserve(&scfg)
	t.io = socketio.NewServer(scfg)
	t.startObserve()
	t.initLimits()
	reg := &Registrar{t: t}
	for _, m := range cfg.Modules {
		if m == nil {
			return nil, errors.New("transport: Config.Modules holds a nil Module")
		}
		if err := m.Register(reg); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// SocketIO returns the Socket.IO server, so that a host application can add
// namespaces and event handlers of its own (for example game moves in
// /rooms: t.SocketIO().Of("/rooms").On("game:move", …)).
func (t *Transport) SocketIO() *socketio.Server { return t.io }

// Start subscribes to the Broker so that events published by any instance
// reach this instance's sockets. It returns once the subscription is live.
func (t *Transport) Start(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.unsub != nil {
		return errors.New("transport: already started")
	}
	unsub, err := t.cfg.Broker.Subscribe(ctx, t.fanout.enqueue)
	if err != nil {
		return err
	}
	t.fanout.start()
	t.unsub = unsub
	return nil
}

// Shutdown disconnects every socket, stops the event subscription and waits
// for connections to end or ctx to be done. Stop the http.Server first so
// that no new connection arrives.
func (t *Transport) Shutdown(ctx context.Context) error {
	err := t.io.Shutdown(ctx)
	t.mu.Lock()
	if t.unsub != nil {
		t.unsub()
		t.unsub = nil
	}
	t.fanout.stop()
	t.mu.Unlock()
	if t.local != nil {
		t.local.close(ctx)
	}
	return err
}

// follow subscribes the Broker to the rooms a local socket joined, before
// the socket's Join returns: a socket joined in a connect handler thus
// receives every event published to its rooms from before its CONNECT
// reply on. Several rooms are followed concurrently.
func (t *Transport) follow(namespace string, rooms []string) {
	ctx, cancel := context.WithTimeout(context.Background(), followTimeout)
	defer cancel()
	one := func(room string) {
		if err := t.cfg.Broker.Follow(ctx, namespace, room); err != nil {
			t.log.Warn("broker: cannot follow a room; its events may not reach this instance",
				"namespace", namespace, "room", room, "err", err)
		}
	}
	if len(rooms) == 1 {
		one(rooms[0])
		return
	}
	var wg sync.WaitGroup
	for _, r := range rooms {
		wg.Go(func() { one(r) })
	}
	wg.Wait()
}

// unfollow undoes follow for the rooms a local socket left.
func (t *Transport) unfollow(namespace string, rooms []string) {
	for _, r := range rooms {
		t.cfg.Broker.Unfollow(namespace, r)
	}
}

// deliver hands one event to the local sockets it targets. It never
// creates a namespace (an event for a namespace this instance does not
// serve has no local sockets), and an event without a target is dropped:
// broadcasting to a whole namespace is never implied by a missing target.
func (t *Transport) deliver(ev rv.Event) {
	if m := t.cfg.Metrics; m != nil {
		start := time.Now()
		defer func() { m.ObserveDelivery(time.Since(start)) }()
	}
	ns := t.targetNamespace(ev.Namespace, ev.Target, 1)
	if ns == nil {
		return
	}
	if ev.Name != "" {
		if ev.Data != nil {
			ns.Emit(ev.Target, ev.Name, ev.Data)
		} else {
			ns.Emit(ev.Target, ev.Name)
		}
	}
	if ev.Disconnect {
		ns.DisconnectRoom(ev.Target)
	}
}

// targetNamespace returns the namespace n events for target are delivered
// in, or nil: an event without a target is dropped (and logged), and an
// unknown namespace is never created by a delivery.
func (t *Transport) targetNamespace(namespace, target string, n int) *socketio.Namespace {
	if target == "" {
		t.log.Warn("events without a target dropped", "namespace", namespace, "events", n)
		return nil
	}
	return t.io.Lookup(namespace)
}

// deliverBatch hands consecutive events of one target to the local sockets:
// their named events in one socketio.Namespace.EmitBatch, then the
// disconnection the last one may ask for.
func (t *Transport) deliverBatch(evs []rv.Event) {
	first, last := evs[0], evs[len(evs)-1]
	if m := t.cfg.Metrics; m != nil {
		start := time.Now()
		defer func() {
			d := time.Since(start)
			for range evs {
				m.ObserveDelivery(d)
			}
		}()
	}
	ns := t.targetNamespace(first.Namespace, first.Target, len(evs))
	if ns == nil {
		return
	}
	msgs := make([]socketio.Message, 0, len(evs))
	for _, ev := range evs {
		switch {
		case ev.Name == "":
		case ev.Data != nil:
			msgs = append(msgs, socketio.Message{Event: ev.Name, Args: []any{ev.Data}})
		default:
			msgs = append(msgs, socketio.Message{Event: ev.Name})
		}
	}
	ns.EmitBatch(first.Target, msgs)
	if last.Disconnect {
		ns.DisconnectRoom(first.Target)
	}
}

// Mount registers every REST handler and the Socket.IO endpoint on mux,
// and a catch-all for the other paths under the prefix (Prefix+"/", or
// "/" without a prefix) that answers the JSON error body: 404
// ROUTE_NOT_FOUND, or 405 METHOD_NOT_ALLOWED with Allow when the path
// exists with other methods. The host application's more specific routes
// on mux keep working; to serve its own pages at "/" with an empty
// Prefix, it registers "/" before calling Mount (unknown paths are then
// its own).
func (t *Transport) Mount(mux *http.ServeMux) {
	p := t.cfg.Prefix
	paths := map[string][]string{}
	handle := func(pattern string, h http.Handler) { mux.Handle(pattern, t.Observed(pattern, h)) }
	for _, rt := range t.routes {
		h := t.handle(t.observeWebhook(rt.Webhook, rt.Handler))
		if !rt.Unthrottled {
			h = t.throttle(rt.Method+" "+rt.Path, h)
		}
		handle(rt.Method+" "+p+rt.Path, t.cors(h))
		paths[rt.Path] = append(paths[rt.Path], rt.Method)
	}
	for path, methods := range paths {
		handle("OPTIONS "+p+path, t.preflight(methods))
	}
	handle("GET "+p+"/healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	handle("GET "+p+"/readyz", t.handle(func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := t.cfg.Ready(ctx); err != nil {
			return ErrNotReady.Wrap(err)
		}
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	}))
	handle(t.cfg.SocketIOPath, t.socketHandler())
	t.mountCatchAll(mux)
}

// Handler returns a new ServeMux with everything mounted.
func (t *Transport) Handler() http.Handler {
	mux := http.NewServeMux()
	t.Mount(mux)
	return mux
}

// handle adapts a handler that returns an error: the error is written as
// an ErrorBody, and a panic becomes a logged 500.
func (t *Transport) handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				t.log.ErrorContext(r.Context(), "handler panic", "method", r.Method, "path", r.URL.Path, "panic", p)
				t.writeError(w, r, errors.New("panic"))
			}
		}()
		if err := h(w, r); err != nil {
			t.writeError(w, r, err)
		}
	})
}

// throttle applies the per-IP, per-route rate limit: local-first (see
// HitCounter) or one Limiter call per request.
func (t *Transport) throttle(route string, next http.Handler) http.Handler {
	if t.cfg.ThrottleLimit == 0 {
		return next
	}
	prefix := "http:" + route + ":"
	if l := t.local; l != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var buf [128]byte
			key := append(append(buf[:0], prefix...), t.requestIP(w, r)...)
			if ok, after := l.allow(r.Context(), key); !ok {
				t.writeError(w, r, retryAfter{err: ErrRateLimited, after: after})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, after, err := t.cfg.Limiter.Allow(r.Context(), prefix+t.requestIP(w, r), t.cfg.ThrottleLimit, t.cfg.ThrottleWindow)
		if err != nil {
			// Fail open: an unreachable limiter store must not take the API down.
			t.log.WarnContext(r.Context(), "rate limiter failed; request allowed", "err", err)
		} else if !ok {
			t.writeError(w, r, retryAfter{err: ErrRateLimited, after: after})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
