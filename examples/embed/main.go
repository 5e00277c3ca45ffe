package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	"github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/transport"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// options configure the program; main fills them from the flags.
type options struct {
	addr        string // listen address
	redisURL    string // empty: memory stores for ephemeral state
	redisPrefix string // prefix of every Redis key and channel
	databaseURL string // empty: memory stores for accounts and the wallet
	secret      []byte // signs tokens; shared by every instance
}

func main() {
	var (
		o      options
		secret string
	)
	flag.StringVar(&o.addr, "addr", "127.0.0.1:3000", "listen address")
	flag.StringVar(&o.redisURL, "redis", "", "Redis URL (redis://host:port/db) for rooms, rate limits, the logout-all cut-off and event fan-out; empty keeps them in memory")
	flag.StringVar(&o.redisPrefix, "redis-prefix", redis.DefaultPrefix, "prefix of every Redis key and channel")
	flag.StringVar(&o.databaseURL, "database", "", "PostgreSQL URL for accounts and the wallet; empty keeps them in memory")
	flag.StringVar(&secret, "secret", "", "token signing secret, at least 32 bytes, the same on every instance; empty: random per process")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if secret == "" {
		secret = rand.Text() + rand.Text()
		log.Warn("no -secret: tokens will not survive a restart nor work across instances")
	}
	o.secret = []byte(secret)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, o, log, nil); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

// serve connects to the configured servers, mounts rendezvous and the
// host's own routes on one mux and serves until ctx is done, then shuts
// down gracefully. When ready is not nil it receives the listening address
// once connections are accepted.
func serve(ctx context.Context, o options, log *slog.Logger, ready chan<- string) error {
	var (
		rdb  *goredis.Client
		pool *pgxpool.Pool
	)
	if o.redisURL != "" {
		opt, err := goredis.ParseURL(o.redisURL)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		opt.ContextTimeoutEnabled = true // let the command budget reach the socket
		rdb = goredis.NewClient(opt)
		defer rdb.Close()
		breaker, err := redis.NewBreaker(redis.BreakerConfig{Failures: 5, Cooldown: 2 * time.Second})
		if err != nil {
			return err
		}
		rdb.AddHook(breaker)                              // fail fast while Redis is down or hung
		rdb.AddHook(redis.Timeouts{Command: time.Second}) // one budget per command, retries included
	}
	if o.databaseURL != "" {
		var err error
		if pool, err = pgxpool.New(ctx, o.databaseURL); err != nil {
			return fmt.Errorf("database: %w", err)
		}
		defer pool.Close()
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "the host application's own page\n")
	})
	t, err := mount(ctx, mux, rdb, o.redisPrefix, pool, o.secret, log)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return errors.Join(err, t.Shutdown(context.Background()))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return errors.Join(err, t.Shutdown(context.Background()))
	case <-ctx.Done():
	}
	// Stop accepting, disconnect the sockets (hijacked connections are not
	// tracked by http.Server), then drain the requests in flight.
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = ln.Close()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return errors.Join(t.Shutdown(sctx), srv.Shutdown(sctx))
}

// mount wires the services to their stores (Redis and PostgreSQL when rdb
// and pool are not nil, memory otherwise) and mounts them on mux.
func mount(ctx context.Context, mux *http.ServeMux, rdb *goredis.Client, prefix string, pool *pgxpool.Pool, secret []byte, logger *slog.Logger) (*transport.Transport, error) {
	// README snippet: begin
	// Ephemeral state (rooms, rate limits, the logout-all cut-off and the
	// fan-out of events) lives in memory for one process, or in Redis
	// when several instances share it.
	var (
		roomStore rooms.Store       = memory.NewRoomStore(nil)
		broker    transport.Broker  = memory.NewBroker()
		limiter   transport.Limiter = memory.NewRateLimiter(nil)
		cutoffs   auth.CutoffStore  = memory.NewCutoffStore(nil)
	)
	if rdb != nil { // a go-redis client
		roomStore = redis.NewRoomStore(rdb, prefix)
		broker = redis.NewBroker(rdb, prefix)
		limiter = redis.NewRateLimiter(rdb, prefix)
		cutoffs = redis.NewCutoffStore(rdb, prefix)
	}
	// Durable state (accounts, the token wallet) lives in memory, or in
	// PostgreSQL.
	var (
		authStore auth.Store    = memory.NewAuthStore(nil)
		wallets   billing.Store = memory.NewWalletStore(nil)
	)
	if pool != nil { // a *pgxpool.Pool
		if err := postgres.Migrate(ctx, pool); err != nil { // safe when several instances start at once
			return nil, err
		}
		authStore = postgres.NewAuthStore(pool)
		wallets = postgres.NewWalletStore(pool)
	}

	tokens, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: secret})
	if err != nil {
		return nil, err
	}
	roomSvc, err := rooms.New(rooms.Config{Store: roomStore, Tokens: tokens, Notifier: broker, Logger: logger})
	if err != nil {
		return nil, err
	}
	accounts, err := auth.New(auth.Config{
		Store:   authStore,
		Cutoffs: cutoffs,
		Limiter: limiter,
		Sender:  auth.LogSender{Logger: logger}, // development only: use your SMS and email provider (an auth.CodeSender)
		Secret:  secret,                         // at least 32 bytes in production
		Logger:  logger,
	})
	if err != nil {
		return nil, err
	}
	wallet, err := billing.New(billing.Config{Store: wallets, Logger: logger}) // Payments: billing/stripe sells the packs
	if err != nil {
		return nil, err
	}

	t, err := transport.New(transport.Config{
		Modules: []transport.Module{ // the features served; a Module of your own goes here too
			transport.RoomsModule(transport.RoomsConfig{Service: roomSvc}),
			transport.AccountsModule(transport.AccountsConfig{Service: accounts}),
			transport.BillingModule(transport.BillingConfig{Service: wallet, Authenticator: accounts}),
		},
		Broker:        broker,
		Limiter:       limiter,
		ThrottleLimit: 20, // requests per client IP, route and minute
		Prefix:        "/api",
		Logger:        logger,
	})
	if err != nil {
		return nil, err
	}
	if err := t.Start(ctx); err != nil { // subscribes to the broker
		return nil, err
	}
	t.Mount(mux) // every REST route under /api, and the Socket.IO endpoint at /socket.io/

	// A game event of your own in the rooms namespace: the move goes to
	// every member of the sender's room, on whichever instance each one
	// is connected.
	t.SocketIO().Of(rooms.Namespace).On("game:move", func(s *socketio.Socket, ev *socketio.Event) {
		var move struct {
			X int `json:"x"`
			Y int `json:"y"`
		}
		if err := ev.Arg(0, &move); err != nil {
			if ev.Ack != nil {
				ev.Ack(map[string]any{"ok": false, "error": map[string]string{"code": "INVALID_PAYLOAD", "message": "a move is {x, y}"}})
			}
			return
		}
		for _, target := range s.Rooms() { // "room:<CODE>" and "user:<id>"
			if strings.HasPrefix(target, rv.RoomTarget("")) {
				_ = broker.Notify(s.Context(), rv.NewEvent(rooms.Namespace, target, "game:moved", move))
			}
		}
		if ev.Ack != nil {
			ev.Ack(map[string]any{"ok": true})
		}
	})
	// README snippet: end
	return t, nil
}
