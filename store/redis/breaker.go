package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
)

// ErrCircuitOpen is the error of a command that a Breaker refused without
// sending it, because Redis failed too many times in a row. The stores of
// this package return it wrapped in rendezvous.ErrStoreUnavailable.
var ErrCircuitOpen = errors.New("redis: circuit breaker open")

// BreakerState is the state of a Breaker.
type BreakerState int

// The states of a Breaker.
const (
	// BreakerClosed: commands go to Redis; failures are counted.
	BreakerClosed BreakerState = iota
	// BreakerOpen: commands fail at once with ErrCircuitOpen until the
	// cool-down has passed.
	BreakerOpen
	// BreakerHalfOpen: the cool-down has passed; the next command goes to
	// Redis as a probe while the others still fail at once. The probe's
	// success closes the breaker, its failure opens it again.
	BreakerHalfOpen
)

// String returns "closed", "open" or "half-open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("BreakerState(%d)", int(s))
}

// Defaults of BreakerConfig.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 2 * time.Second
)

// BreakerConfig configures a Breaker. Zero fields mean the documented
// defaults.
type BreakerConfig struct {
	// Failures is the number of consecutive failed commands that open the
	// breaker. Default DefaultBreakerFailures.
	Failures int
	// Cooldown is how long the breaker stays open before it lets one
	// probe through. Default DefaultBreakerCooldown.
	Cooldown time.Duration
	// Clock tells the time of the cool-down. Default rendezvous.SystemClock.
	Clock rv.Clock
	// Logger gets a WARN when the breaker opens and an INFO when it closes
	// again. Default: no logging.
	Logger *slog.Logger
}

// Breaker is a circuit breaker for a go-redis client, installed as a hook
// with client.AddHook. It keeps a Redis that is down or hung from tying up
// every caller for the whole command timeout: after Failures consecutive
// commands failed with a network error or a timeout it opens, and every
// command then fails at once with ErrCircuitOpen, without touching the
// network. Once Cooldown has passed it lets one command through as a probe;
// the probe's success closes it, its failure opens it for another Cooldown.
//
// Only network errors, timeouts (context.DeadlineExceeded included) and
// connection-pool timeouts count as failures. Any reply of Redis, redis.Nil
// and error replies such as a script error included, is a success; a
// canceled context or a closed client counts neither way. A pipeline counts
// as one command.
//
// The commands go-redis sends by itself while it opens a connection for an
// admitted command (HELLO, CLIENT SETINFO) are part of that command. Dials
// pass through unchecked: they happen inside an admitted command, or for
// pub/sub, which the breaker does not govern.
//
// A Breaker is safe for concurrent use. Install one per client: its count
// is about the server that client talks to.
type Breaker struct {
	failures int
	cooldown time.Duration
	clock    rv.Clock
	log      *slog.Logger

	mu       sync.Mutex
	open     bool
	count    int       // consecutive failures while closed
	openedAt time.Time // when it last opened, while open
	probing  bool      // a probe is in flight, while open
}

var _ goredis.Hook = (*Breaker)(nil)

// NewBreaker returns a closed Breaker, or an error for a negative Failures
// or Cooldown.
func NewBreaker(cfg BreakerConfig) (*Breaker, error) {
	if cfg.Failures < 0 {
		return nil, fmt.Errorf("redis: BreakerConfig.Failures must not be negative, got %d", cfg.Failures)
	}
	if cfg.Cooldown < 0 {
		return nil, fmt.Errorf("redis: BreakerConfig.Cooldown must not be negative, got %v", cfg.Cooldown)
	}
	b := &Breaker{failures: cfg.Failures, cooldown: cfg.Cooldown, clock: cfg.Clock, log: cfg.Logger}
	if b.failures == 0 {
		b.failures = DefaultBreakerFailures
	}
	if b.cooldown == 0 {
		b.cooldown = DefaultBreakerCooldown
	}
	if b.clock == nil {
		b.clock = rv.SystemClock
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	return b, nil
}

// State returns the breaker's current state.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.open:
		return BreakerClosed
	case b.probing || b.clock.Now().Sub(b.openedAt) >= b.cooldown:
		return BreakerHalfOpen
	}
	return BreakerOpen
}

// DialHook implements redis.Hook: dials pass through.
func (b *Breaker) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

// ProcessHook implements redis.Hook.
func (b *Breaker) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if b.admitted(ctx) {
			return next(ctx, cmd)
		}
		probe, err := b.admit()
		if err != nil {
			cmd.SetErr(err)
			return err
		}
		err = next(b.mark(ctx), cmd)
		b.record(probe, err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (b *Breaker) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if b.admitted(ctx) {
			return next(ctx, cmds)
		}
		probe, err := b.admit()
		if err != nil {
			for _, cmd := range cmds {
				cmd.SetErr(err)
			}
			return err
		}
		err = next(b.mark(ctx), cmds)
		b.record(probe, err)
		return err
	}
}

// admittedKey marks the context of a command the breaker let through, so
// that the commands go-redis runs within it are not counted again.
type admittedKey struct{}

func (b *Breaker) mark(ctx context.Context) context.Context {
	return context.WithValue(ctx, admittedKey{}, b)
}

func (b *Breaker) admitted(ctx context.Context) bool {
	v, _ := ctx.Value(admittedKey{}).(*Breaker)
	return v == b
}

// admit decides whether a command may go to Redis, and whether it is the
// probe of a half-open breaker.
func (b *Breaker) admit() (probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return false, nil
	}
	if b.probing || b.clock.Now().Sub(b.openedAt) < b.cooldown {
		return false, ErrCircuitOpen
	}
	b.probing = true
	return true, nil
}

// outcome is what a command's result says about Redis.
type outcome int

const (
	neutral outcome = iota
	success
	failure
)

func classify(err error) outcome {
	var redisErr goredis.Error
	switch {
	case err == nil, errors.Is(err, goredis.Nil):
		return success
	case errors.Is(err, context.Canceled), errors.Is(err, ErrCircuitOpen), errors.Is(err, goredis.ErrClosed):
		return neutral
	case connFailure(err):
		return failure
	case errors.As(err, &redisErr):
		return success // Redis answered
	}
	return neutral
}

// record counts the result of an admitted command.
func (b *Breaker) record(probe bool, err error) {
	o := classify(err)
	b.mu.Lock()
	was := b.open
	if probe {
		b.probing = false
	}
	if b.open {
		// Only the probe decides; commands admitted before the breaker
		// opened and ending now say nothing new.
		switch {
		case probe && o == success:
			b.open, b.count = false, 0
		case probe && o == failure:
			b.openedAt = b.clock.Now()
		}
	} else {
		switch o {
		case success:
			b.count = 0
		case failure:
			b.count++
			if b.count >= b.failures {
				b.open, b.count, b.openedAt = true, 0, b.clock.Now()
			}
		}
	}
	now := b.open
	b.mu.Unlock()

	switch {
	case !was && now:
		b.log.Warn("redis: circuit breaker open: commands fail at once until a probe succeeds",
			"failures", b.failures, "cooldown", b.cooldown.String(), "err", err)
	case was && !now:
		b.log.Info("redis: circuit breaker closed: Redis answers again")
	case was && probe && o == failure:
		b.log.Warn("redis: circuit breaker stays open: the probe failed", "cooldown", b.cooldown.String(), "err", err)
	}
}
