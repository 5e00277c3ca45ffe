package redis

import (
	"context"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Timeouts is a go-redis hook, installed with client.AddHook, that gives
// every command and every pipeline of the client one time budget: the
// connection-pool wait, the dial, each retry and the back-off between
// retries all come out of Command. A caller's earlier deadline still wins.
// Without it, go-redis applies its read and write timeouts to each attempt
// anew, so a hung Redis costs callers up to (MaxRetries+1) times them.
//
// go-redis only carries a context's deadline to the socket when the
// client's Options.ContextTimeoutEnabled is true: set it, or the budget
// bounds the pool wait and the retries but not a read that hangs.
//
// The budget is meant for clients that run short commands, like the stores
// of this package; it would cut blocking commands (BLPOP, XREAD BLOCK).
// Pub/sub receives are not commands and are not bounded.
type Timeouts struct {
	// Command bounds each command or pipeline, from the call to the end of
	// its last retry. Zero or negative means no bound.
	Command time.Duration
}

var _ goredis.Hook = Timeouts{}

// DialHook implements redis.Hook: dials pass through (a dial made for a
// command is bounded by that command's budget).
func (t Timeouts) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

// ProcessHook implements redis.Hook.
func (t Timeouts) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	if t.Command <= 0 {
		return next
	}
	return func(ctx context.Context, cmd goredis.Cmder) error {
		ctx, cancel := context.WithTimeout(ctx, t.Command)
		defer cancel()
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (t Timeouts) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	if t.Command <= 0 {
		return next
	}
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		ctx, cancel := context.WithTimeout(ctx, t.Command)
		defer cancel()
		return next(ctx, cmds)
	}
}
