package redis_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/matchmaking"

	"github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestQueueStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunQueue(t, func(t *testing.T) storetest.QueueHarness {
			client, prefix, _ := b.connect(t)
			return storetest.QueueHarness{Store: redis.NewQueueStore(client, prefix)}
		})
	})
}

// TestQueueKeys checks the documented key layout: every key of the queue
// carries the {q} hash tag and has no TTL, and a pair once acked leaves
// only the counters behind.
func TestQueueKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		ctx := context.Background()
		client, prefix, _ := b.connect(t)
		s := redis.NewQueueStore(client, prefix)
		now := time.Now()
		keys := func() []string {
			t.Helper()
			var got []string
			iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				key := iter.Val()
				if pttl, err := client.PTTL(ctx, key).Result(); err != nil || pttl != -1 {
					t.Errorf("key %s has TTL %v, %v; want none", key, pttl, err)
				}
				got = append(got, strings.TrimPrefix(key, prefix))
			}
			if err := iter.Err(); err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			return got
		}
		for _, id := range []string{"a", "b", "c"} {
			if _, _, err := s.Reserve(ctx, matchmaking.Entry{UserID: id, QueueKey: "eu:0123456789ab", DebitKey: "d" + id, State: matchmaking.StateJoining, JoinedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := keys(), []string{"{q}:e:a", "{q}:e:b", "{q}:e:c", "{q}:joining"}; !slices.Equal(got, want) {
			t.Errorf("after reserves: keys %v, want %v", got, want)
		}
		for _, id := range []string{"a", "b", "c"} {
			if _, _, err := s.Activate(ctx, id, "d"+id); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.TouchSocket(ctx, "c", "s1", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutNotice(ctx, "c", matchmaking.Notice{Reason: matchmaking.ReasonDisconnected}); err != nil {
			t.Fatal(err)
		}
		want := []string{"{q}:e:a", "{q}:e:b", "{q}:e:c", "{q}:k:eu:0123456789ab", "{q}:n:c", "{q}:p:c", "{q}:ready", "{q}:seq", "{q}:waiting"}
		if got := keys(); !slices.Equal(got, want) {
			t.Errorf("after activations: keys %v, want %v", got, want)
		}
		pairs, err := s.PopPairs(ctx, []string{"s1", "s2"}, now, time.Minute)
		if err != nil || len(pairs) != 1 {
			t.Fatalf("PopPairs = %+v, %v", pairs, err)
		}
		want = []string{"{q}:e:a", "{q}:e:b", "{q}:e:c", "{q}:k:eu:0123456789ab", "{q}:leases", "{q}:n:c", "{q}:p:c", "{q}:pairs", "{q}:seq", "{q}:waiting"}
		if got := keys(); !slices.Equal(got, want) {
			t.Errorf("after the pop: keys %v, want %v (no ready set with one waiter)", got, want)
		}
		if err := s.AckPair(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Remove(ctx, "c"); err != nil || !ok {
			t.Fatalf("Remove(c) = %v, %v", ok, err)
		}
		if _, _, err := s.TakeNotice(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DropSocket(ctx, "c", "s1", now); err != nil {
			t.Fatal(err)
		}
		if got, want := keys(), []string{"{q}:seq", "{q}:waiting"}; !slices.Equal(got, want) {
			t.Errorf("at the end: keys %v, want %v", got, want)
		}
	})
}

// queueOps returns a call of every QueueStore method.
func queueOps(client goredis.UniversalClient) []storeOp {
	s := redis.NewQueueStore(client, "t:")
	now := time.Now()
	return []storeOp{
		{"QueueStore.Ping", s.Ping},
		{"QueueStore.Reserve", func(ctx context.Context) error {
			_, _, err := s.Reserve(ctx, matchmaking.Entry{UserID: "u1", QueueKey: "eu:0123456789ab", DebitKey: "d", State: matchmaking.StateJoining, JoinedAt: now})
			return err
		}},
		{"QueueStore.Activate", func(ctx context.Context) error { _, _, err := s.Activate(ctx, "u1", "d"); return err }},
		{"QueueStore.Discard", func(ctx context.Context) error { _, err := s.Discard(ctx, "u1", "d"); return err }},
		{"QueueStore.Get", func(ctx context.Context) error { _, _, _, err := s.Get(ctx, "u1"); return err }},
		{"QueueStore.Remove", func(ctx context.Context) error { _, _, err := s.Remove(ctx, "u1"); return err }},
		{"QueueStore.StaleJoins", func(ctx context.Context) error { _, err := s.StaleJoins(ctx, now, 10); return err }},
		{"QueueStore.PopPairs", func(ctx context.Context) error {
			_, err := s.PopPairs(ctx, []string{"s1"}, now, time.Minute)
			return err
		}},
		{"QueueStore.ClaimStalePairs", func(ctx context.Context) error {
			_, err := s.ClaimStalePairs(ctx, now, time.Minute, 10)
			return err
		}},
		{"QueueStore.AckPair", func(ctx context.Context) error { return s.AckPair(ctx, "s1") }},
		{"QueueStore.Waiting", func(ctx context.Context) error { _, err := s.Waiting(ctx); return err }},
		{"QueueStore.TouchSocket", func(ctx context.Context) error { return s.TouchSocket(ctx, "u1", "s1", now) }},
		{"QueueStore.DropSocket", func(ctx context.Context) error { _, err := s.DropSocket(ctx, "u1", "s1", now); return err }},
		{"QueueStore.LiveSockets", func(ctx context.Context) error { _, err := s.LiveSockets(ctx, "u1", now); return err }},
		{"QueueStore.PutNotice", func(ctx context.Context) error { return s.PutNotice(ctx, "u1", matchmaking.Notice{}) }},
		{"QueueStore.TakeNotice", func(ctx context.Context) error { _, _, err := s.TakeNotice(ctx, "u1"); return err }},
	}
}

// With Redis refusing connections or hung, every QueueStore method fails
// with STORE_UNAVAILABLE.
func TestQueueStoreUnavailable(t *testing.T) {
	t.Run("Refused", func(t *testing.T) {
		mr := miniredis.RunT(t)
		client := quickClient(t, mr.Addr())
		mr.Close()
		for _, op := range queueOps(client) {
			wantUnavailable(t, op.name, callWithin(t, op))
		}
	})
	t.Run("Hung", func(t *testing.T) {
		addr, _ := hungServer(t)
		client := hungClient(t, addr, redis.Timeouts{Command: 50 * time.Millisecond})
		for _, op := range queueOps(client) {
			err := callWithin(t, op)
			wantUnavailable(t, op.name, err)
			if !isTimeout(err) {
				t.Errorf("%s: error %v is not a timeout", op.name, err)
			}
		}
	})
}
