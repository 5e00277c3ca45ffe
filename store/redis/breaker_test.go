package redis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

// replyError is an error reply of Redis (a script error, WRONGTYPE…).
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

var errTimeout = &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}

// breakerHarness drives a Breaker through its public hooks with a fake
// next hook whose result the test chooses.
type breakerHarness struct {
	t       *testing.T
	b       *redis.Breaker
	clock   *fakeclock.Clock
	calls   atomic.Int64 // calls that reached next
	process goredis.ProcessHook
	pipe    goredis.ProcessPipelineHook
	result  func() error
}

func newBreakerHarness(t *testing.T, failures int, cooldown time.Duration) *breakerHarness {
	t.Helper()
	h := &breakerHarness{t: t, clock: fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))}
	b, err := redis.NewBreaker(redis.BreakerConfig{Failures: failures, Cooldown: cooldown, Clock: h.clock})
	if err != nil {
		t.Fatal(err)
	}
	h.b = b
	h.process = b.ProcessHook(func(ctx context.Context, cmd goredis.Cmder) error {
		h.calls.Add(1)
		err := h.result()
		cmd.SetErr(err)
		return err
	})
	h.pipe = b.ProcessPipelineHook(func(ctx context.Context, cmds []goredis.Cmder) error {
		h.calls.Add(1)
		return h.result()
	})
	return h
}

// do runs one command whose outcome is err.
func (h *breakerHarness) do(err error) error {
	h.result = func() error { return err }
	return h.process(context.Background(), goredis.NewCmd(context.Background(), "get", "k"))
}

func (h *breakerHarness) wantState(step string, want redis.BreakerState) {
	h.t.Helper()
	if s := h.b.State(); s != want {
		h.t.Fatalf("%s: state %v, want %v", step, s, want)
	}
}

func TestBreakerOpensAfterConsecutiveFailures(t *testing.T) {
	h := newBreakerHarness(t, 3, time.Second)
	for i, err := range []error{errTimeout, errTimeout, nil, errTimeout, io.EOF} {
		_ = h.do(err)
		h.wantState(fmt.Sprintf("outcome %d", i+1), redis.BreakerClosed) // the success reset the count
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	if err := h.do(refused); err != refused {
		t.Fatalf("third failure returned %v, want the failure itself", err)
	}
	h.wantState("third consecutive failure", redis.BreakerOpen)
	before := h.calls.Load()
	cmd := goredis.NewCmd(context.Background(), "get", "k")
	if err := h.process(context.Background(), cmd); !errors.Is(err, redis.ErrCircuitOpen) || !errors.Is(cmd.Err(), redis.ErrCircuitOpen) {
		t.Fatalf("command on an open breaker: %v (cmd %v), want ErrCircuitOpen", err, cmd.Err())
	}
	cmds := []goredis.Cmder{goredis.NewCmd(context.Background(), "get", "a"), goredis.NewCmd(context.Background(), "get", "b")}
	if err := h.pipe(context.Background(), cmds); !errors.Is(err, redis.ErrCircuitOpen) {
		t.Fatalf("pipeline on an open breaker: %v, want ErrCircuitOpen", err)
	}
	for _, c := range cmds {
		if !errors.Is(c.Err(), redis.ErrCircuitOpen) {
			t.Errorf("pipelined command error %v, want ErrCircuitOpen", c.Err())
		}
	}
	if h.calls.Load() != before {
		t.Fatal("an open breaker let a command through")
	}
}

func TestBreakerCountsOnlyNetworkFailures(t *testing.T) {
	h := newBreakerHarness(t, 1, time.Second)
	for _, err := range []error{
		nil,
		goredis.Nil,
		replyError("ERR user_script:1: Script attempted to access nonexistent global variable"),
		replyError("WRONGTYPE Operation against a key holding the wrong kind of value"),
		context.Canceled,
		goredis.ErrClosed,
		errors.New("redis: malformed reply"),
	} {
		_ = h.do(err)
		h.wantState(fmt.Sprintf("after %v", err), redis.BreakerClosed)
	}
	for _, err := range []error{errTimeout, context.DeadlineExceeded, goredis.ErrPoolTimeout, io.ErrUnexpectedEOF} {
		h := newBreakerHarness(t, 1, time.Second)
		_ = h.do(fmt.Errorf("wrapped: %w", err))
		h.wantState(fmt.Sprintf("after %v", err), redis.BreakerOpen)
	}
}

func TestBreakerPipelineCounts(t *testing.T) {
	h := newBreakerHarness(t, 2, time.Second)
	h.result = func() error { return errTimeout }
	for range 2 {
		_ = h.pipe(context.Background(), []goredis.Cmder{goredis.NewCmd(context.Background(), "ping")})
	}
	h.wantState("two failed pipelines", redis.BreakerOpen)
}

// After the cool-down exactly one of many concurrent commands goes
// through as the probe; the others fail at once until it ends.
func TestBreakerHalfOpenLetsOneProbeThrough(t *testing.T) {
	h := newBreakerHarness(t, 1, 2*time.Second)
	_ = h.do(errTimeout)
	h.clock.Advance(time.Second)
	if err := h.do(nil); !errors.Is(err, redis.ErrCircuitOpen) {
		t.Fatalf("within the cool-down: %v, want ErrCircuitOpen", err)
	}
	h.clock.Advance(time.Second)
	h.wantState("after the cool-down", redis.BreakerHalfOpen)

	release := make(chan struct{})
	entered := make(chan struct{}, 100)
	h.result = func() error {
		entered <- struct{}{}
		<-release
		return nil
	}
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- h.process(context.Background(), goredis.NewCmd(context.Background(), "get", "k"))
		}()
	}
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("no probe went through")
	}
	// Every command but the probe fails at once; wait for them.
	for range n - 1 {
		select {
		case err := <-errs:
			if !errors.Is(err, redis.ErrCircuitOpen) {
				t.Errorf("command beside the probe: %v, want ErrCircuitOpen", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("commands beside the probe did not fail at once")
		}
	}
	h.wantState("probe in flight", redis.BreakerHalfOpen)
	close(release)
	wg.Wait()
	if err := <-errs; err != nil {
		t.Fatalf("probe: %v", err)
	}
	if c := h.calls.Load(); c != 2 {
		t.Fatalf("%d commands reached Redis, want the first failure and one probe", c-1)
	}
	h.wantState("good probe", redis.BreakerClosed)
	if err := h.do(nil); err != nil {
		t.Fatalf("closed again: %v", err)
	}
}

func TestBreakerFailedProbeReopens(t *testing.T) {
	h := newBreakerHarness(t, 2, time.Second)
	_ = h.do(errTimeout)
	_ = h.do(errTimeout)
	h.clock.Advance(time.Second)
	if err := h.do(errTimeout); err != errTimeout {
		t.Fatalf("probe: %v, want its own failure", err)
	}
	h.wantState("failed probe", redis.BreakerOpen)
	h.clock.Advance(time.Second / 2)
	if err := h.do(nil); !errors.Is(err, redis.ErrCircuitOpen) {
		t.Fatalf("a new cool-down started with the failed probe: %v, want ErrCircuitOpen", err)
	}
	// A probe that ends without a verdict (the caller gave up) lets the
	// next command probe.
	h.clock.Advance(time.Second / 2)
	_ = h.do(context.Canceled)
	h.wantState("canceled probe", redis.BreakerHalfOpen)
	_ = h.do(goredis.Nil)
	h.wantState("good probe", redis.BreakerClosed)
}

func TestNewBreakerValidates(t *testing.T) {
	if _, err := redis.NewBreaker(redis.BreakerConfig{Failures: -1}); err == nil {
		t.Error("negative Failures accepted")
	}
	if _, err := redis.NewBreaker(redis.BreakerConfig{Cooldown: -time.Second}); err == nil {
		t.Error("negative Cooldown accepted")
	}
	b, err := redis.NewBreaker(redis.BreakerConfig{})
	if err != nil || b.State() != redis.BreakerClosed {
		t.Fatalf("defaults: %v %v", b, err)
	}
	for s, want := range map[redis.BreakerState]string{
		redis.BreakerClosed: "closed", redis.BreakerOpen: "open", redis.BreakerHalfOpen: "half-open", 9: "BreakerState(9)",
	} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(s), s.String(), want)
		}
	}
}
