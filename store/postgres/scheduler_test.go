package postgres_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestSchedulerJobStore(t *testing.T) {
	testenv.PostgresURL(t) // skip early when there is no database
	storetest.RunScheduler(t, func(t *testing.T) rv.JobStore { return postgres.NewJobStore(testPool(t)) })
}

// TestSchedulerScheduleTx checks that a job scheduled in a transaction
// exists only once the transaction commits, and that CancelTx rolls back
// with its transaction.
func TestSchedulerScheduleTx(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := postgres.NewJobStore(pool)
	now := time.Now()
	claimed := func() int {
		t.Helper()
		cs, err := s.Claim(ctx, now.Add(time.Hour), time.Second, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if err := s.Retry(ctx, c, now); err != nil { // release it for the next look
				t.Fatal(err)
			}
		}
		return len(cs)
	}

	errRollback := errors.New("roll back")
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := s.ScheduleTx(ctx, tx, rv.Job{Key: "rolled-back", Kind: "k", Due: now}); err != nil {
			t.Fatal(err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if n := claimed(); n != 0 {
		t.Fatalf("a job scheduled in a rolled-back transaction was claimed")
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ScheduleTx(ctx, tx, rv.Job{Key: "committed", Kind: "k", Due: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.ScheduleTx(ctx, tx, rv.Job{Key: "", Kind: "k", Due: now}); !errors.Is(err, rv.ErrInvalidJob) {
		t.Errorf("ScheduleTx of an invalid job = %v, want INVALID_JOB", err)
	}
	if n := claimed(); n != 0 {
		t.Fatalf("a job was claimed before its transaction committed")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := claimed(); n != 1 {
		t.Fatalf("%d jobs claimed after the commit, want 1", n)
	}

	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if ok, err := s.CancelTx(ctx, tx, "committed"); err != nil || !ok {
			t.Fatalf("CancelTx = %v, %v", ok, err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if n := claimed(); n != 1 {
		t.Fatalf("the job is gone after a rolled-back CancelTx")
	}
}

// TestSchedulerStoreUnavailable checks that an expired context is reported
// as TIMEOUT and a server that refuses connections as STORE_UNAVAILABLE.
func TestSchedulerStoreUnavailable(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewJobStore(testPool(t))
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := s.Claim(expired, time.Now(), time.Second, 1); !errors.Is(err, rv.ErrTimeout) {
		t.Errorf("Claim with an expired context = %v, want TIMEOUT", err)
	}

	// Nothing listens on a port just released.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	down, err := pgxpool.New(ctx, "postgres://nobody@"+addr+"/none?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	if _, err := postgres.NewJobStore(down).Claim(ctx, time.Now(), time.Second, 1); !errors.Is(err, rv.ErrStoreUnavailable) {
		t.Errorf("Claim with the server down = %v, want STORE_UNAVAILABLE", err)
	}
}

// BenchmarkSchedulerClaim measures jobs claimed and completed per second
// on Postgres, by 4 runners per CPU claiming batches of 100:
//
//	RENDEZVOUS_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench SchedulerClaim -benchtime 20000x ./store/postgres
func BenchmarkSchedulerClaim(b *testing.B) {
	storetest.BenchSchedulerClaim(b, postgres.NewJobStore(testPool(b)), 100, 4)
}
