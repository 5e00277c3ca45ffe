package postgres_test

import (
	"context"
	"testing"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestOptinStore(t *testing.T) {
	testenv.PostgresURL(t) // skip early when there is no database
	storetest.RunOptin(t, func(t *testing.T) storetest.OptinHarness {
		return storetest.OptinHarness{Store: postgres.NewOptinStore(testPool(t))}
	})
}

// TestMatchConstraints checks that the schema itself keeps one match per
// live match per pair of users, stored sorted, and no mutual outcome
// without its match.
func TestMatchConstraints(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	const (
		m1 = "0b8f9c1e-5d7a-4e2b-8f3c-1a2b3c4d5e6f"
		m2 = "0b8f9c1e-5d7a-4e2b-8f3c-1a2b3c4d5e70"
		m3 = "0b8f9c1e-5d7a-4e2b-8f3c-1a2b3c4d5e71"
		s1 = "6f1c2f4e-3a59-4d43-9a55-3c1f0b7d2a10"
	)
	if _, err := pool.Exec(ctx, `INSERT INTO matches (id, user_lo, user_hi, session_id, created_at, last_activity) VALUES ($1, 'a', 'b', $2, now(), now())`, m1, s1); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO matches (id, user_lo, user_hi, session_id, created_at, last_activity) VALUES ($1, 'a', 'b', $2, now(), now())`, m2, s1); err == nil {
		t.Error("the schema accepted a second live match of one pair")
	}
	// Once removed, the pair may match again.
	if _, err := pool.Exec(ctx, `UPDATE matches SET removed_at = now() WHERE id = $1`, m1); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO matches (id, user_lo, user_hi, session_id, created_at, last_activity) VALUES ($1, 'a', 'b', $2, now(), now())`, m3, s1); err != nil {
		t.Errorf("the schema refused a new match of a pair whose match was removed: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO matches (id, user_lo, user_hi, session_id, created_at, last_activity) VALUES ($1, 'd', 'c', $2, now(), now())`, m2, s1); err == nil {
		t.Error("the schema accepted an unsorted pair")
	}
	if _, err := pool.Exec(ctx, `INSERT INTO choice_windows (session_id, user_a, user_b, deadline, outcome, resolved_at) VALUES ($1, 'a', 'b', now(), 'mutual', now())`, s1); err == nil {
		t.Error("the schema accepted a mutual outcome without a match")
	}
	// "B" < "a" byte by byte, whatever the database's collation.
	if _, err := pool.Exec(ctx, `INSERT INTO matches (id, user_lo, user_hi, session_id, created_at, last_activity) VALUES ($1, 'B', 'a', $2, now(), now())`, m2, s1); err != nil {
		t.Errorf("the schema refused a pair sorted byte by byte: %v", err)
	}
}
