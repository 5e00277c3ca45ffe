package transport_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/memory"
	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/transport"
)

// redisBackends connect a test to miniredis and to the real Redis.
var redisBackends = []struct {
	name    string
	connect func(t *testing.T) (goredis.UniversalClient, string)
}{
	{"Miniredis", func(t *testing.T) (goredis.UniversalClient, string) {
		mr := miniredis.RunT(t)
		client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = client.Close() })
		return client, "rv:"
	}},
	{"Redis", func(t *testing.T) (goredis.UniversalClient, string) {
		client, prefix := testenv.Redis(t)
		return client, prefix
	}},
}

// Two instances (two Transports, each with its own Redis client and
// RateLimiter) on one Redis share the HTTP rate limit: hammered at once by
// many clients of one IP they admit at least the limit and at most twice
// it, refuse with 429 and Retry-After, and once they have synced both
// refuse.
func TestThrottleTwoInstancesShareRedis(t *testing.T) {
	for _, be := range redisBackends {
		t.Run(be.name, func(t *testing.T) {
			client, prefix := be.connect(t)
			other := goredis.NewClient(client.(*goredis.Client).Options())
			t.Cleanup(func() { _ = other.Close() })
			const limit = 20
			stacks := []*stack{
				newStack(t, options{limiter: redisstore.NewRateLimiter(client, prefix), throttle: limit, throttleSync: 10 * time.Millisecond}),
				newStack(t, options{limiter: redisstore.NewRateLimiter(other, prefix), throttle: limit, throttleSync: 10 * time.Millisecond}),
			}
			var ok, refused atomic.Int64
			var wg sync.WaitGroup
			for i := range 160 {
				wg.Go(func() {
					r := do(t, "GET", stacks[i%2].URL+"/rooms/NOSUCH", "")
					switch r.Status {
					case http.StatusNotFound:
						ok.Add(1)
					case http.StatusTooManyRequests:
						refused.Add(1)
						secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
						if err != nil || secs < 1 || secs > 60 {
							t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
						}
						if e := r.errorBody(t); e.Code != "RATE_LIMITED" {
							t.Errorf("code %s", e.Code)
						}
					default:
						t.Errorf("status %d %s", r.Status, r.Body)
					}
				})
			}
			wg.Wait()
			t.Logf("admitted %d, refused %d (limit %d, two instances)", ok.Load(), refused.Load(), limit)
			if n := ok.Load(); n < limit || n > 2*limit {
				t.Fatalf("admitted %d, want within [%d, %d]", n, limit, 2*limit)
			}
			// Each instance ends up refusing: a request it admits makes it
			// sync, and the sync brings the shared count.
			for i, s := range stacks {
				deadline := time.Now().Add(20 * time.Second)
				for do(t, "GET", s.URL+"/rooms/NOSUCH", "").Status != http.StatusTooManyRequests {
					if ok.Add(1) > 2*limit {
						t.Fatalf("instance %d: more than %d admitted in all", i, 2*limit)
					}
					if time.Now().After(deadline) {
						t.Fatalf("instance %d never refused", i)
					}
				}
			}
		})
	}
}

// commandCounter is a go-redis hook that counts the round trips (one
// command, or one pipeline) made with each request id.
type commandCounter struct {
	mu    sync.Mutex
	trips map[string]int
	cmds  map[string]int
}

func (c *commandCounter) count(ctx context.Context, cmds int) {
	id := transport.RequestID(ctx)
	if id == "" {
		return // not a request's: the throttle's background sync
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trips[id]++
	c.cmds[id] += cmds
}

func (c *commandCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *commandCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.count(ctx, 1)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.count(ctx, len(cmds))
		return next(ctx, cmds)
	}
}

// GET /rooms/{code} on Redis, with the rate limit on and warm, makes
// exactly one Redis round trip: the read. POST /rooms's count is logged.
func TestRoomsRESTRedisRoundTrips(t *testing.T) {
	for _, be := range redisBackends {
		t.Run(be.name, func(t *testing.T) {
			client, prefix := be.connect(t)
			counter := &commandCounter{trips: map[string]int{}, cmds: map[string]int{}}
			client.AddHook(counter)
			s := newStack(t, options{
				store:     redisstore.NewRoomStore(client, prefix),
				limiter:   redisstore.NewRateLimiter(client, prefix),
				throttle:  1 << 30,
				accessLog: true,
				logger:    slog.New(slog.DiscardHandler),
			})
			tk := s.create(t, "Host")
			url := s.URL + "/rooms/" + tk.RoomCode
			get := func(id string) {
				t.Helper()
				if r := do(t, "GET", url, "", transport.RequestIDHeader, id); r.Status != 200 {
					t.Fatalf("GET: %d %s", r.Status, r.Body)
				}
			}
			get("warm-up") // the limiter's warm-up: its own round trip
			const n = 20
			for i := range n {
				get("get-" + strconv.Itoa(i))
			}
			var posts []string
			for i := range 5 {
				id := "post-" + strconv.Itoa(i)
				posts = append(posts, id)
				if r := do(t, "POST", s.URL+"/rooms", `{"displayName":"Host"}`, transport.RequestIDHeader, id); r.Status != 201 {
					t.Fatalf("POST: %d %s", r.Status, r.Body)
				}
			}
			counter.mu.Lock()
			defer counter.mu.Unlock()
			t.Logf("GET warm-up: %d round trips", counter.trips["warm-up"])
			for i := range n {
				id := "get-" + strconv.Itoa(i)
				if got := counter.trips[id]; got != 1 {
					t.Errorf("GET %s: %d Redis round trips (%d commands), want 1", id, got, counter.cmds[id])
				}
			}
			for _, id := range posts {
				t.Logf("POST /rooms %s: %d Redis round trips, %d commands", id, counter.trips[id], counter.cmds[id])
			}
		})
	}
}

// With ThrottleSync negative, or a Limiter that is no HitCounter, every
// request asks the Limiter: the exact mode of before.
func TestThrottleExactMode(t *testing.T) {
	s := newStack(t, options{throttle: 3, throttleSync: -1})
	for range 3 {
		s.create(t, "A")
	}
	wantError(t, do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`), 429, "RATE_LIMITED")

	s = newStack(t, options{throttle: 3, limiter: allowOnly{memory.NewRateLimiter(nil)}})
	for range 3 {
		s.create(t, "A")
	}
	wantError(t, do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`), 429, "RATE_LIMITED")
}

// allowOnly hides every method of a Limiter but Allow.
type allowOnly struct{ l transport.Limiter }

func (a allowOnly) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	return a.l.Allow(ctx, key, limit, window)
}
