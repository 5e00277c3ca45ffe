package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/metrics"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/transport"
)

// stores are the stores the services run on, and the checks of /readyz.
type stores struct {
	rooms     rooms.Store
	jobs      rv.JobStore // the durable scheduler's, beside the rooms
	limiter   transport.Limiter
	broker    transport.Broker
	cutoffs   auth.CutoffStore
	authStore auth.Store
	wallets   billing.Store
	queue     matchmaking.Store
	sessions  session.Store
	choices   optin.Store
	chat      chat.Store
	modEvents moderation.EventStore
	bans      moderation.BanStore
	pings     []func(context.Context) error
	// metrics receives the features' hooks (nil: no metrics).
	metrics *metrics.Registry
}

// ephemeral sets the rooms, the queue, bans, the scheduler's jobs, rate
// limits, cut-offs and fan-out up in Redis when REDIS_URL is set, else in memory.
func (a *app) ephemeral(ctx context.Context, s *stores) error {
	if a.cfg.RedisURL == "" {
		s.rooms = memory.NewRoomStore(rv.SystemClock)
		s.jobs = memory.NewJobStore()
		s.limiter = memory.NewRateLimiter(rv.SystemClock)
		s.broker = memory.NewBroker()
		s.cutoffs = memory.NewCutoffStore(rv.SystemClock)
		s.queue = memory.NewQueueStore()
		s.bans = memory.NewBanStore(rv.SystemClock)
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
	s.queue = redisstore.NewQueueStore(client, prefix)
	s.bans = redisstore.NewBanStore(client, prefix)
	s.pings = append(s.pings, rs.Ping)
	a.log.Info("ephemeral state: redis", "addr", client.Options().Addr, "prefix", prefix,
		"commandTimeout", a.cfg.RedisCommandTimeout.String(), "breakerFailures", a.cfg.RedisBreakerFailures)
	return nil
}

// durable sets accounts, wallets, video sessions, choice windows, matches,
// messages and moderation events up in Postgres when DATABASE_URL is
// set, else in memory.
func (a *app) durable(ctx context.Context, s *stores) error {
	if a.cfg.DatabaseURL == "" {
		s.authStore = memory.NewAuthStore(rv.SystemClock)
		s.wallets = memory.NewWalletStore(rv.SystemClock)
		s.sessions = memory.NewSessionStore()
		choices := memory.NewOptinStore()
		s.choices = choices
		s.chat = memory.NewChatStore(choices)
		s.modEvents = memory.NewModerationEventStore()
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
	s.sessions = postgres.NewSessionStore(pool)
	s.choices = postgres.NewOptinStore(pool)
	s.chat = postgres.NewChatStore(pool)
	s.modEvents = postgres.NewModerationEventStore(pool)
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
