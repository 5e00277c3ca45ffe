package main

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"

	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
)

// newRedisClient connects to REDIS_URL and checks that Redis answers
// within REDIS_CONNECT_TIMEOUT.
//
// Every command then has one budget, REDIS_COMMAND_TIMEOUT, for everything
// it does: the wait for a pooled connection, a dial, each retry and the
// back-off between retries (the Timeouts hook, with ContextTimeoutEnabled
// so that the budget reaches the socket). A refused connection is retried
// within the budget; a hung Redis uses it up in one attempt. Once
// REDIS_BREAKER_FAILURES commands in a row failed that way, the breaker
// answers every command at once until a probe, after
// REDIS_BREAKER_COOLDOWN_MS, finds Redis back. The stores report all of
// these failures as STORE_UNAVAILABLE (503).
func newRedisClient(ctx context.Context, cfg config, log *slog.Logger) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.MaxRetries = cfg.RedisMaxRetries
	if opt.MaxRetries == 0 {
		opt.MaxRetries = -1 // go-redis reads 0 as its default of 3
	}
	opt.DialTimeout = cfg.RedisConnectTimeout
	opt.DialerRetries = 1 // a command retries a failed dial itself, within its budget
	opt.ReadTimeout = cfg.RedisCommandTimeout
	opt.WriteTimeout = cfg.RedisCommandTimeout
	opt.PoolTimeout = cfg.RedisCommandTimeout
	opt.ContextTimeoutEnabled = true
	client := goredis.NewClient(opt)

	// The start-up check has the connect timeout, not the command budget.
	pctx, cancel := context.WithTimeout(ctx, cfg.RedisConnectTimeout)
	err = client.Ping(pctx).Err()
	cancel()
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}

	if cfg.RedisBreakerFailures > 0 {
		breaker, err := redisstore.NewBreaker(redisstore.BreakerConfig{
			Failures: cfg.RedisBreakerFailures,
			Cooldown: cfg.RedisBreakerCooldown,
			Logger:   log,
		})
		if err != nil {
			_ = client.Close()
			return nil, err
		}
		client.AddHook(breaker)
	}
	client.AddHook(redisstore.Timeouts{Command: cfg.RedisCommandTimeout})
	return client, nil
}

// redisLog passes go-redis's own messages (a failed dial, a pool event)
// to the server's JSON log at DEBUG: during an outage the breaker's WARN
// and the failed requests already tell it, once per event.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
