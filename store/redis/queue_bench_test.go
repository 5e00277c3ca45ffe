package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

// benchQueueUsers queues n users over keys queue keys (user i under key
// i%keys), pipelined; user ids are unique per round.
func benchQueueUsers(b *testing.B, s *redis.QueueStore, round, n, keys int) {
	b.Helper()
	now := time.Now()
	entries := make([]matchmaking.Entry, n)
	for i := range entries {
		id := fmt.Sprintf("r%d-u%d", round, i)
		entries[i] = matchmaking.Entry{
			UserID:   id,
			QueueKey: fmt.Sprintf("k%d:000000000000", i%keys),
			DebitKey: "queue:" + id,
			State:    matchmaking.StateJoining,
			JoinedAt: now,
		}
	}
	if err := redis.FillQueue(context.Background(), s, entries); err != nil {
		b.Fatal(err)
	}
}

// benchSessionIDs returns n session ids unique per op.
func benchSessionIDs(op, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("s%d-%d", op, i)
	}
	return ids
}

// BenchmarkQueuePopPairs measures the pairing script on a real Redis: 100,000
// waiting users over 1,000 queue keys, popped by PopPairs calls of 1,000
// fresh session ids each (one script call per op), the pending pairs
// piling up as when OnPair lags. When fewer than 1,000 pairs are left, the
// queue is refilled with the timer stopped. It reports pairs/s.
//
//	RENDEZVOUS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
//	  go test -run '^$' -bench QueuePopPairs -benchtime 200x ./store/redis/
func BenchmarkQueuePopPairs(b *testing.B) {
	const users, keys, perCall = 100_000, 1_000, 1_000
	client, prefix := testenv.Redis(b)
	s := redis.NewQueueStore(client, prefix)
	ctx := context.Background()
	round := 0
	benchQueueUsers(b, s, round, users, keys)
	left := users / 2
	pairs := 0
	b.ResetTimer()
	for i := range b.N {
		if left < perCall {
			b.StopTimer()
			round++
			benchQueueUsers(b, s, round, users, keys)
			left += users / 2
			b.StartTimer()
		}
		got, err := s.PopPairs(ctx, benchSessionIDs(i, perCall), time.Now(), time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != perCall {
			b.Fatalf("op %d popped %d pairs, want %d", i, len(got), perCall)
		}
		left -= len(got)
		pairs += len(got)
	}
	b.ReportMetric(float64(pairs)/b.Elapsed().Seconds(), "pairs/s")
}

// BenchmarkQueuePopLoneWaiters measures a PopPairs call of 1,000 session
// ids with 100,000 lone waiters, one per queue key: nothing to pair, and
// the ready set is empty, so the cost does not grow with the waiters.
//
//	RENDEZVOUS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
//	  go test -run '^$' -bench QueuePopLoneWaiters -benchtime 2000x ./store/redis/
func BenchmarkQueuePopLoneWaiters(b *testing.B) {
	const users = 100_000
	client, prefix := testenv.Redis(b)
	s := redis.NewQueueStore(client, prefix)
	ctx := context.Background()
	benchQueueUsers(b, s, 0, users, users)
	ids := benchSessionIDs(0, 1000)
	b.ResetTimer()
	for range b.N {
		got, err := s.PopPairs(ctx, ids, time.Now(), time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 0 {
			b.Fatalf("lone waiters were paired: %d pairs", len(got))
		}
	}
	b.StopTimer()
	if n, err := s.Waiting(ctx); err != nil || n != users {
		b.Fatalf("Waiting = %d, %v; want %d", n, err, users)
	}
}
