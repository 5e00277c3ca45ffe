package postgres_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/store/postgres"
)

// BenchmarkChatHistory measures one page of 50 messages of a match with
// 100,000 of them (inserted by one statement), per op:
//
//   - Newest: the newest page (no cursor);
//   - Before: the page below a random Seq (a `before` cursor);
//   - Service: chat.Service.Messages at a random `before` cursor, with the
//     participant check and a Profiles call that answers at once.
//
// Run with, for instance:
//
//	RENDEZVOUS_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench ChatHistory ./store/postgres/
func BenchmarkChatHistory(b *testing.B) {
	const total, page = 100_000, 50
	ctx := context.Background()
	pool := testPool(b)
	store := postgres.NewChatStore(pool)
	matchID, userA, userB := uuid.New(), "bench-a", "bench-b"
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `INSERT INTO matches (id, user_lo, user_hi, session_id, created_at, last_activity, message_count)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, matchID, userA, userB, uuid.New(), start, start.Add(total*time.Second), total); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO messages (id, match_id, seq, sender_id, text, created_at)
		SELECT gen_random_uuid(), $1, s, CASE WHEN s % 2 = 0 THEN $2 ELSE $3 END,
			'message number ' || s || ' of the benchmark history', $4::timestamptz + s * interval '1 second'
		FROM generate_series(1, $5::bigint) AS s`, matchID, userA, userB, start, total); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE messages`); err != nil {
		b.Fatal(err)
	}
	check := func(b *testing.B, ms []chat.Message, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if len(ms) == 0 || len(ms) > page {
			b.Fatalf("page of %d messages", len(ms))
		}
	}
	perPage := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
	}

	b.Run("Newest", func(b *testing.B) {
		for b.Loop() {
			ms, err := store.Messages(ctx, matchID, chat.HistoryQuery{Limit: page})
			check(b, ms, err)
		}
		perPage(b)
	})
	b.Run("Before", func(b *testing.B) {
		for b.Loop() {
			ms, err := store.Messages(ctx, matchID, chat.HistoryQuery{Before: 2 + rand.Int64N(total), Limit: page})
			check(b, ms, err)
		}
		perPage(b)
	})
	b.Run("Service", func(b *testing.B) {
		svc, err := chat.New(chat.Config{
			Store: store,
			Profiles: func(_ context.Context, ids []string) (map[string]chat.Partner, error) {
				out := make(map[string]chat.Partner, len(ids))
				for _, id := range ids {
					out[id] = chat.Partner{ID: id}
				}
				return out, nil
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		// The cursors the service hands out, of random pages.
		cursors := make([]string, 64)
		for i := range cursors {
			p, err := svc.Messages(ctx, userA, matchID, "", "", 1)
			if err != nil || p.NextCursor == "" {
				b.Fatalf("first page: %+v, %v", p, err)
			}
			for range rand.IntN(4) {
				if p, err = svc.Messages(ctx, userA, matchID, p.NextCursor, "", chat.MaxMessageLimit); err != nil {
					b.Fatal(err)
				}
			}
			cursors[i] = p.NextCursor
		}
		for b.Loop() {
			p, err := svc.Messages(ctx, userA, matchID, cursors[rand.IntN(len(cursors))], "", page)
			check(b, p.Messages, err)
		}
		perPage(b)
	})
}
