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
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/metrics"
	"github.com/rendezvous-go/rendezvous/store/postgres"
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
	ln, err := net.Listen("tcp", listenAddr(cfg))
	if err != nil {
		return err
	}
	return a.serve(ctx, ln, ready)
}

// listenAddr is the public listener's address: HOST (every interface when
// empty) and PORT.
func listenAddr(cfg config) string { return net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)) }

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	// Every line logged with a request's context carries its id.
	return slog.New(transport.RequestIDHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})))
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
	queue     *matchmaking.Service
	metrics   *metrics.Registry // nil when METRICS is false
	closers   []func() error
}

// serve accepts connections on ln and runs the durable scheduler and the
// pairing worker until ctx is done, then stops accepting, disconnects every
// socket, drains requests within the shutdown timeout and stops both.
//
// A request must arrive whole (headers and body) within HTTP_READ_TIMEOUT_MS
// and be answered within HTTP_WRITE_TIMEOUT_MS, which is longer than a
// long-polling GET is held (a ping interval); WebSockets leave these
// deadlines behind when they are upgraded.
func (a *app) serve(ctx context.Context, ln net.Listener, ready chan<- string) error {
	conns := new(connCount)
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: a.cfg.HTTPReadTimeout,
		ReadTimeout:       a.cfg.HTTPReadTimeout,
		WriteTimeout:      a.cfg.HTTPWriteTimeout,
		IdleTimeout:       a.cfg.HTTPIdleTimeout,
		MaxHeaderBytes:    a.cfg.HTTPMaxHeaderBytes,
		ConnState:         conns.track,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	if a.cfg.DebugAddr != "" {
		stopDebug, err := a.startDebug(a.cfg.DebugAddr)
		if err != nil {
			return err
		}
		defer stopDebug()
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
	// The pairing worker runs on every instance; its store makes that
	// safe. It stops with the scheduler.
	queueDone := make(chan struct{})
	go func() {
		defer close(queueDone)
		_ = a.queue.Run(schedCtx)
	}()
	defer func() {
		stopSched()
		<-schedDone
		<-queueDone
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
