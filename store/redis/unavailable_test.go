package redis_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

// storeOp is one call of a store's public API.
type storeOp struct {
	name string
	call func(ctx context.Context) error
}

// storeOps returns a call of every method of every store of the package
// that talks to Redis.
func storeOps(client goredis.UniversalClient) []storeOp {
	rs := redis.NewRoomStore(client, "t:")
	rl := redis.NewRateLimiter(client, "t:")
	cs := redis.NewCutoffStore(client, "t:")
	br := redis.NewBroker(client, "t:")
	w := rooms.Write{Now: time.Now(), TTL: time.Minute}
	room := rooms.Room{Code: "ABCD", HostID: "u1", MaxUsers: 4}
	ev := rv.NewEvent("/rooms", "room:ABCD", "ping", nil)
	return []storeOp{
		{"RoomStore.Ping", rs.Ping},
		{"RoomStore.CreateRoom", func(ctx context.Context) error {
			return rs.CreateRoom(ctx, w, room, rooms.Member{ID: "u1", DisplayName: "Ada"})
		}},
		{"RoomStore.Room", func(ctx context.Context) error { _, err := rs.Room(ctx, "ABCD"); return err }},
		{"RoomStore.Members", func(ctx context.Context) error { _, err := rs.Members(ctx, "ABCD"); return err }},
		{"RoomStore.Member", func(ctx context.Context) error { _, err := rs.Member(ctx, "ABCD", "u1"); return err }},
		{"RoomStore.Join", func(ctx context.Context) error {
			_, err := rs.Join(ctx, w, "ABCD", rooms.Member{ID: "u2", DisplayName: "Grace"})
			return err
		}},
		{"RoomStore.Leave", func(ctx context.Context) error { _, err := rs.Leave(ctx, w, "ABCD", "u2", false); return err }},
		{"RoomStore.Kick", func(ctx context.Context) error { _, err := rs.Kick(ctx, w, "ABCD", "u1", "u2"); return err }},
		{"RoomStore.ToggleLock", func(ctx context.Context) error { _, err := rs.ToggleLock(ctx, w, "ABCD", "u1"); return err }},
		{"RoomStore.TransferHost", func(ctx context.Context) error {
			_, err := rs.TransferHost(ctx, w, "ABCD", "u1", "u2")
			return err
		}},
		{"RoomStore.Touch", func(ctx context.Context) error {
			_, _, err := rs.Touch(ctx, w, "ABCD", "u1", "s1", time.Minute)
			return err
		}},
		{"RoomStore.Close", func(ctx context.Context) error { return rs.Close(ctx, "ABCD", "u1") }},
		{"RateLimiter.Allow", func(ctx context.Context) error { _, _, err := rl.Allow(ctx, "k", 5, time.Minute); return err }},
		{"CutoffStore.SetCutoff", func(ctx context.Context) error {
			return cs.SetCutoff(ctx, "u1", time.Now(), time.Minute)
		}},
		{"CutoffStore.Cutoff", func(ctx context.Context) error { _, err := cs.Cutoff(ctx, "u1"); return err }},
		{"Broker.Notify", func(ctx context.Context) error { return br.Notify(ctx, ev) }},
		{"Broker.Notify (pipeline)", func(ctx context.Context) error { return br.Notify(ctx, ev, ev) }},
		{"Broker.Subscribe", func(ctx context.Context) error {
			unsubscribe, err := br.Subscribe(ctx, func(rv.Event) {})
			if err == nil {
				unsubscribe()
			}
			return err
		}},
	}
}

// quickClient is a client that gives up on a refused connection at once:
// one dial per attempt and one retry.
func quickClient(t *testing.T, addr string, hooks ...goredis.Hook) *goredis.Client {
	t.Helper()
	client := goredis.NewClient(&goredis.Options{
		Addr:                  addr,
		DialerRetries:         1,
		MaxRetries:            1,
		MinRetryBackoff:       time.Millisecond,
		MaxRetryBackoff:       2 * time.Millisecond,
		ContextTimeoutEnabled: true,
	})
	for _, h := range hooks {
		client.AddHook(h)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// callWithin runs op and returns its error, failing t when it has not
// returned after a generous wait.
func callWithin(t *testing.T, op storeOp) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- op.call(context.Background()) }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not return within 30 s", op.name)
		return nil
	}
}

func wantUnavailable(t *testing.T, name string, err error) {
	t.Helper()
	if !errors.Is(err, rv.ErrStoreUnavailable) || rv.CodeOf(err) != "STORE_UNAVAILABLE" || rv.KindOf(err) != rv.KindUnavailable {
		t.Errorf("%s: error %v (code %s), want STORE_UNAVAILABLE", name, err, rv.CodeOf(err))
	}
}

// With Redis refusing connections every store method fails with
// STORE_UNAVAILABLE, the network error kept as the cause.
func TestStoresUnavailableWhenRedisRefuses(t *testing.T) {
	mr := miniredis.RunT(t)
	client := quickClient(t, mr.Addr())
	mr.Close()
	for _, op := range storeOps(client) {
		err := callWithin(t, op)
		wantUnavailable(t, op.name, err)
		var ne net.Error
		if !errors.As(err, &ne) {
			t.Errorf("%s: error %v does not keep the network error", op.name, err)
		}
	}
}

// hungServer accepts connections and never answers, like a Redis that is
// stopped (SIGSTOP) or stuck; it counts the connections it accepted.
func hungServer(t *testing.T) (addr string, accepted *atomic.Int64) {
	return testenv.HungServer(t)
}

// hungClient talks to a server that never answers; without a time budget
// its commands would wait forever (no read timeout).
func hungClient(t *testing.T, addr string, hooks ...goredis.Hook) *goredis.Client {
	t.Helper()
	client := goredis.NewClient(&goredis.Options{
		Addr:                  addr,
		ReadTimeout:           -1,
		WriteTimeout:          -1,
		MaxRetries:            3,
		ContextTimeoutEnabled: true,
	})
	for _, h := range hooks {
		client.AddHook(h)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// With Redis hung, the Timeouts hook bounds every store call, retries
// included, and the store reports STORE_UNAVAILABLE with the timeout as
// its cause.
func TestStoresUnavailableWhenRedisHangs(t *testing.T) {
	addr, _ := hungServer(t)
	client := hungClient(t, addr, redis.Timeouts{Command: 50 * time.Millisecond})
	for _, op := range storeOps(client) {
		err := callWithin(t, op)
		wantUnavailable(t, op.name, err)
		if !isTimeout(err) {
			t.Errorf("%s: error %v is not a timeout", op.name, err)
		}
	}
}

// A caller's context canceled is not the store's failure: it stays a
// cancellation.
func TestStoreCanceledIsNotUnavailable(t *testing.T) {
	addr, _ := hungServer(t)
	client := hungClient(t, addr, redis.Timeouts{Command: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := redis.NewRoomStore(client, "").Room(ctx, "ABCD"); done <- err }()
	cancel()
	select {
	case err := <-done:
		if errors.Is(err, rv.ErrStoreUnavailable) || rv.CodeOf(err) != "CANCELED" {
			t.Errorf("canceled read: %v (code %s), want CANCELED", err, rv.CodeOf(err))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a canceled read did not return within 30 s")
	}
}

// countHook counts the commands and pipelines that reach it.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h *countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// Once a hung Redis made Failures calls time out, the breaker answers
// every store call at once with STORE_UNAVAILABLE and sends nothing.
func TestBreakerFailsFastWhenRedisHangs(t *testing.T) {
	addr, _ := hungServer(t)
	b, err := redis.NewBreaker(redis.BreakerConfig{Failures: 2, Cooldown: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sent := &countHook{}
	client := hungClient(t, addr, b, redis.Timeouts{Command: 50 * time.Millisecond}, sent)
	ops := storeOps(client)
	room := ops[2] // RoomStore.Room
	for i := range 2 {
		if err := callWithin(t, room); !isTimeout(err) {
			t.Fatalf("call %d: %v, want a timeout", i+1, err)
		}
	}
	if s := b.State(); s != redis.BreakerOpen {
		t.Fatalf("state after 2 timeouts: %v, want open", s)
	}
	before := sent.n.Load()
	for _, op := range ops {
		if op.name == "Broker.Subscribe" {
			continue // pub/sub is not governed by the breaker
		}
		err := callWithin(t, op)
		wantUnavailable(t, op.name, err)
		if !errors.Is(err, redis.ErrCircuitOpen) {
			t.Errorf("%s: %v, want ErrCircuitOpen", op.name, err)
		}
	}
	if after := sent.n.Load(); after != before {
		t.Errorf("%d commands went past the open breaker", after-before)
	}
}

// The breaker lets a probe through after the cool-down; when Redis is
// back the probe closes it, on a fresh connection (whose handshake
// commands are part of the probe).
func TestBreakerRecoversWhenRedisReturns(t *testing.T) {
	mr := miniredis.RunT(t)
	clock := fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	b, err := redis.NewBreaker(redis.BreakerConfig{Failures: 3, Cooldown: 2 * time.Second, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	client := quickClient(t, mr.Addr(), b)
	cs := redis.NewCutoffStore(client, "")
	ctx := context.Background()
	if _, err := cs.Cutoff(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	mr.Close()
	for i := range 3 {
		if _, err := cs.Cutoff(ctx, "u1"); errors.Is(err, redis.ErrCircuitOpen) || !errors.Is(err, rv.ErrStoreUnavailable) {
			t.Fatalf("call %d with Redis down: %v, want a refused connection", i+1, err)
		}
	}
	if _, err := cs.Cutoff(ctx, "u1"); !errors.Is(err, redis.ErrCircuitOpen) {
		t.Fatalf("after 3 failures: %v, want ErrCircuitOpen", err)
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Cutoff(ctx, "u1"); !errors.Is(err, redis.ErrCircuitOpen) {
		t.Fatalf("within the cool-down: %v, want ErrCircuitOpen", err)
	}
	clock.Advance(2 * time.Second)
	if s := b.State(); s != redis.BreakerHalfOpen {
		t.Fatalf("state after the cool-down: %v, want half-open", s)
	}
	if _, err := cs.Cutoff(ctx, "u1"); err != nil {
		t.Fatalf("probe with Redis back: %v", err)
	}
	if s := b.State(); s != redis.BreakerClosed {
		t.Fatalf("state after a good probe: %v, want closed", s)
	}
}

// Replies of Redis, errors included, are successes: they never open the
// breaker, and are not STORE_UNAVAILABLE.
func TestBreakerIgnoresRedisReplies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ctx := context.Background()
		client, prefix, _ := be.connect(t)
		b, err := redis.NewBreaker(redis.BreakerConfig{Failures: 1})
		if err != nil {
			t.Fatal(err)
		}
		client.AddHook(b)
		rs := redis.NewRoomStore(client, prefix)
		if _, err := redis.NewCutoffStore(client, prefix).Cutoff(ctx, "nobody"); err != nil { // redis.Nil
			t.Fatal(err)
		}
		if _, err := rs.Member(ctx, "NONE", "u1"); !errors.Is(err, rooms.ErrRoomNotFound) {
			t.Fatalf("member of a missing room: %v", err)
		}
		if err := client.Eval(ctx, "return redis.error_reply('BOOM script failed')", nil).Err(); err == nil {
			t.Fatal("the failing script succeeded")
		}
		if err := client.Set(ctx, prefix+"room:{WRNG}", "not a hash", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		_, err = rs.Room(ctx, "WRNG")
		if err == nil || errors.Is(err, rv.ErrStoreUnavailable) {
			t.Fatalf("reading a room key of the wrong type: %v, want a plain error", err)
		}
		if s := b.State(); s != redis.BreakerClosed {
			t.Fatalf("state after replies: %v, want closed", s)
		}
	})
}
