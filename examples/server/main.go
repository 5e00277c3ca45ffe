// Command server is the reference deployment of rendezvous: every feature
// wired to its stores and served over REST and Socket.IO.
//
// With no environment set it runs on the in-memory stores, so
//
//	go run ./examples/server
//
// is a complete local server on port 3000. With REDIS_URL (or REDIS_HOST and
// REDIS_PORT) set, room state, rate limits and real-time fan-out live in
// Redis, and any number of instances behind a load balancer behave as one.
// The README lists every environment variable.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/billing"
	billingstripe "github.com/rendezvous-go/rendezvous/billing/stripe"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/transport"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args := os.Args[1:]; {
	case len(args) == 0:
		err = run(ctx, os.Getenv, os.Stderr, nil)
	case len(args) == 1 && args[0] == "migrate":
		err = migrateOnly(ctx, os.Getenv)
	default:
		err = fmt.Errorf("usage: server [migrate]")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully. When ready is
// not nil it receives the listening address once the server accepts
// connections.
func run(ctx context.Context, getenv func(string) string, logOut io.Writer, ready chan<- string) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(logOut, cfg.LogLevel)
	// go-redis logs through one global; only the process sets it, not the
	// tests that run several apps at once.
	goredis.SetLogger(redisLog{log})
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", cfg.Port))
	if err != nil {
		return err
	}
	return a.serve(ctx, ln, ready)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// migrateOnly applies the Postgres migrations of DATABASE_URL and exits.
func migrateOnly(ctx context.Context, getenv func(string) string) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("migrate: DATABASE_URL is not set")
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	return postgres.Migrate(ctx, pool)
}

// app is the assembled product.
type app struct {
	cfg       config
	log       *slog.Logger
	accounts  *auth.Service
	transport *transport.Transport
	sched     *rv.Scheduler
	closers   []func() error
}

// stores are the stores the services run on, and the checks of /readyz.
type stores struct {
	rooms     rooms.Store
	jobs      rv.JobStore // the durable scheduler's, beside the rooms
	limiter   transport.Limiter
	broker    transport.Broker
	cutoffs   auth.CutoffStore
	authStore auth.Store
	wallets   billing.Store
	pings     []func(context.Context) error
}

// ephemeral sets the rooms, the scheduler's jobs, rate limits, cut-offs and
// fan-out up in Redis when REDIS_URL is set, else in memory.
func (a *app) ephemeral(ctx context.Context, s *stores) error {
	if a.cfg.RedisURL == "" {
		s.rooms = memory.NewRoomStore(rv.SystemClock)
		s.jobs = memory.NewJobStore()
		s.limiter = memory.NewRateLimiter(rv.SystemClock)
		s.broker = memory.NewBroker()
		s.cutoffs = memory.NewCutoffStore(rv.SystemClock)
		a.log.Info("ephemeral state: memory (set REDIS_URL to share it between instances)")
		return nil
	}
	client, err := newRedisClient(ctx, a.cfg, a.log)
	if err != nil {
		return err
	}
	a.closers = append(a.closers, client.Close)
	prefix := a.cfg.RedisPrefix
	rs := redisstore.NewRoomStore(client, prefix)
	s.rooms = rs
	s.jobs = redisstore.NewJobStore(client, prefix)
	s.limiter = redisstore.NewRateLimiter(client, prefix)
	s.broker = redisstore.NewBroker(client, prefix, redisstore.WithLogger(a.log))
	s.cutoffs = redisstore.NewCutoffStore(client, prefix)
	s.pings = append(s.pings, rs.Ping)
	a.log.Info("ephemeral state: redis", "addr", client.Options().Addr, "prefix", prefix,
		"commandTimeout", a.cfg.RedisCommandTimeout.String(), "breakerFailures", a.cfg.RedisBreakerFailures)
	return nil
}

// durable sets accounts and wallets up in Postgres when DATABASE_URL is
// set, else in memory.
func (a *app) durable(ctx context.Context, s *stores) error {
	if a.cfg.DatabaseURL == "" {
		s.authStore = memory.NewAuthStore(rv.SystemClock)
		s.wallets = memory.NewWalletStore(rv.SystemClock)
		a.log.Info("durable state: memory (set DATABASE_URL to keep it)")
		return nil
	}
	pool, err := pgxpool.New(ctx, a.cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	a.closers = append(a.closers, func() error { pool.Close(); return nil })
	if a.cfg.DatabaseMigrate {
		if err := postgres.Migrate(ctx, pool); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
	}
	ps := postgres.NewAuthStore(pool)
	s.authStore = ps
	s.wallets = postgres.NewWalletStore(pool)
	s.pings = append(s.pings, ps.Ping)
	a.log.Info("durable state: postgres", "migrated", a.cfg.DatabaseMigrate)
	return nil
}

// readiness is the check of /readyz: every ping runs at once, and the
// check returns as soon as one fails, all succeeded, or ctx is done, so
// that a store that does not honour its context cannot hold /readyz past
// the deadline the transport gives it.
func readiness(pings []func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		errc := make(chan error, len(pings)) // late answers do not block
		for _, ping := range pings {
			go func() { errc <- ping(ctx) }()
		}
		for range pings {
			select {
			case err := <-errc:
				if err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
}

// newApp wires stores, services and the transport.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if cfg.JWTSecretGenerated {
		log.Warn("JWT_SECRET is not set: using a random secret; tokens will not survive a restart nor work across instances")
	}
	if cfg.Production && slices.Contains(cfg.CORSOrigins, "*") {
		log.Warn("CORS_ORIGINS is \"*\" in production: any web site may call the API from its visitors' browsers")
	}
	var st stores
	if err = a.ephemeral(ctx, &st); err != nil {
		return nil, err
	}
	if err = a.durable(ctx, &st); err != nil {
		return nil, err
	}

	var sender auth.CodeSender
	if !cfg.Production {
		sender = auth.LogSender{Logger: log}
		log.Warn("no SMS or email provider: verification codes are written to this log (development only)")
	} else {
		log.Warn("no SMS or email provider is configured: verification and sign-in codes answer 503 VERIFICATION_UNAVAILABLE")
	}
	wallet, err := newWallet(cfg, st.wallets, log)
	if err != nil {
		return nil, err
	}
	accounts, err := auth.New(auth.Config{
		OnSignup: func(ctx context.Context, u auth.User) error {
			return wallet.GrantSignupBonus(ctx, u.ID)
		},
		Store:        st.authStore,
		Cutoffs:      st.cutoffs,
		Limiter:      st.limiter,
		Sender:       sender,
		Secret:       cfg.JWTSecret,
		Production:   cfg.Production,
		RefreshGrace: cfg.RefreshGrace,
		Logger:       log,
	})
	if err != nil {
		return nil, err
	}
	a.accounts = accounts

	tokens, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: cfg.JWTSecret, TTL: cfg.RoomTTL})
	if err != nil {
		return nil, err
	}
	// One scheduler per instance, all over the same job store: room expiry
	// is its first job.
	a.sched, err = rv.NewScheduler(rv.SchedulerConfig{Store: st.jobs, Logger: log})
	if err != nil {
		return nil, err
	}
	roomSvc, err := rooms.New(rooms.Config{
		Scheduler:        a.sched,
		Store:            st.rooms,
		Tokens:           tokens,
		Notifier:         st.broker,
		Logger:           log,
		CodeAlphabet:     cfg.RoomCodeAlphabet,
		CodeLength:       cfg.RoomCodeLength,
		MaxUsers:         cfg.RoomMaxUsers,
		TTL:              cfg.RoomTTL,
		DisplayNameMin:   cfg.DisplayNameMin,
		DisplayNameMax:   cfg.DisplayNameMax,
		CloseOnHostLeave: cfg.RoomCloseOnHostLeave,
	})
	if err != nil {
		return nil, err
	}
	a.sched.Handle(rooms.ExpireJobKind, roomSvc.HandleExpiry)
	a.transport, err = transport.New(transport.Config{
		Modules: []transport.Module{
			transport.RoomsModule(transport.RoomsConfig{Service: roomSvc}),
			transport.AccountsModule(transport.AccountsConfig{Service: accounts, SecureCookies: cfg.CookieSecure}),
			transport.BillingModule(transport.BillingConfig{Service: wallet, Authenticator: accounts}),
		},
		Broker:            st.broker,
		Prefix:            cfg.APIPrefix,
		Limiter:           st.limiter,
		ThrottleLimit:     cfg.ThrottleLimit,
		ThrottleWindow:    cfg.ThrottleTTL,
		TrustProxy:        cfg.TrustProxy,
		TrustedProxies:    cfg.TrustedProxies,
		ConnectRate:       cfg.SocketConnectRate,
		MaxSocketsPerUser: cfg.RoomMaxSocketsPerUser,
		EventRate:         cfg.SocketEventRate,
		EventBurst:        cfg.SocketEventBurst,
		CORSOrigins:       cfg.CORSOrigins,
		Ready:             readiness(st.pings),
		PingInterval:      time.Duration(cfg.SocketIOPingIntervalMS) * time.Millisecond,
		PingTimeout:       time.Duration(cfg.SocketIOPingTimeoutMS) * time.Millisecond,
		ConnectTimeout:    cfg.SocketIOConnectTimeout,
		Logger:            log,
	})
	if err != nil {
		return nil, err
	}
	if err = a.transport.Start(ctx); err != nil {
		return nil, fmt.Errorf("event subscription: %w", err)
	}
	return a, nil
}

// newWallet builds the token wallet, with Stripe Checkout when
// STRIPE_SECRET_KEY is set.
func newWallet(cfg config, store billing.Store, log *slog.Logger) (*billing.Service, error) {
	packs := make([]billing.Pack, len(cfg.Packs))
	for i, p := range cfg.Packs {
		packs[i] = billing.Pack{ID: p.ID, Tokens: p.Tokens, PriceID: p.PriceID}
		if p.PriceID == "" && p.Amount > 0 {
			packs[i].Amount, packs[i].Currency = p.Amount, cfg.PackCurrency
		}
	}
	bc := billing.Config{
		Store:       store,
		Packs:       packs,
		SuccessURL:  cfg.StripeSuccessURL,
		CancelURL:   cfg.StripeCancelURL,
		SignupBonus: cfg.SignupBonusTokens,
		Logger:      log,
	}
	if cfg.StripeSecretKey != "" {
		p, err := billingstripe.New(billingstripe.Config{
			SecretKey:     cfg.StripeSecretKey,
			WebhookSecret: cfg.StripeWebhookSecret,
			APIBase:       cfg.StripeAPIBase,
			Logger:        log,
		})
		if err != nil {
			return nil, fmt.Errorf("stripe: %w", err)
		}
		bc.Payments = p
		log.Info("payments: stripe", "apiBase", cfg.StripeAPIBase)
	} else {
		log.Info("payments: none (set STRIPE_SECRET_KEY to sell token packs); purchases answer 503 PAYMENTS_UNAVAILABLE")
	}
	return billing.New(bc)
}

// serve accepts connections on ln and runs the durable scheduler until ctx
// is done, then stops accepting, disconnects every socket, drains requests
// within the shutdown timeout and stops the scheduler.
//
// A request must arrive whole (headers and body) within HTTP_READ_TIMEOUT_MS
// and be answered within HTTP_WRITE_TIMEOUT_MS, which is longer than a
// long-polling GET is held (a ping interval); WebSockets leave these
// deadlines behind when they are upgraded.
func (a *app) serve(ctx context.Context, ln net.Listener, ready chan<- string) error {
	conns := new(connCount)
	srv := &http.Server{
		Handler:           a.transport.Handler(),
		ReadHeaderTimeout: a.cfg.HTTPReadTimeout,
		ReadTimeout:       a.cfg.HTTPReadTimeout,
		WriteTimeout:      a.cfg.HTTPWriteTimeout,
		IdleTimeout:       a.cfg.HTTPIdleTimeout,
		MaxHeaderBytes:    a.cfg.HTTPMaxHeaderBytes,
		ConnState:         conns.track,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	purgeCtx, stopPurge := context.WithCancel(ctx)
	defer stopPurge()
	go a.purge(purgeCtx)
	// The scheduler stops after the HTTP shutdown, and before the stores
	// close: serve returns only once it has.
	schedCtx, stopSched := context.WithCancel(ctx)
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		_ = a.sched.Run(schedCtx)
	}()
	defer func() {
		stopSched()
		<-schedDone
	}()
	a.log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return a.shutdown(srv, ln, errc, conns)
}

// shutdown stops accepting, tells sockets, and drains in-flight requests
// within the shutdown timeout. What is still open at the deadline (a slow
// client, a socket that does not answer) is closed and logged at WARN: that
// is the timeout doing its job, not a failure.
func (a *app) shutdown(srv *http.Server, ln net.Listener, errc <-chan error, conns *connCount) error {
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	// Stop accepting first, then tell sockets (hijacked connections are not
	// tracked by http.Server), then drain in-flight requests.
	// Serve returns once its listener is closed; only then does Shutdown
	// run, so that it does not close the listener a second time.
	srv.SetKeepAlivesEnabled(false)
	_ = ln.Close()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	errT := a.transport.Shutdown(sctx)
	if errors.Is(errT, context.DeadlineExceeded) {
		a.log.Warn("shutdown timeout reached: closed the Socket.IO sessions still open")
		errT = nil
	}
	errS := srv.Shutdown(sctx)
	if errors.Is(errS, context.DeadlineExceeded) {
		a.log.Warn("shutdown timeout reached: closing the HTTP connections still open", "connections", conns.open())
		errS = srv.Close()
	}
	return errors.Join(errT, errS)
}

// connCount counts the connections of an http.Server that are neither
// closed nor hijacked.
type connCount struct{ n atomic.Int64 }

func (c *connCount) track(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		c.n.Add(1)
	case http.StateHijacked, http.StateClosed:
		c.n.Add(-1)
	}
}

func (c *connCount) open() int64 { return c.n.Load() }

// purge deletes expired refresh tokens and codes every hour.
func (a *app) purge(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := a.accounts.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("purging expired tokens failed", "err", err)
			}
		}
	}
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i]()
	}
	a.closers = nil
}
