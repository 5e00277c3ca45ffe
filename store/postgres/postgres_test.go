package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

// testSchema creates a schema of its own for the test, t_<random hex>,
// and returns a pool whose connections use it (search_path), not yet
// migrated. The schema is dropped, with everything in it, when the test
// ends. The test is skipped without a database (failed when integration
// tests are required).
func testSchema(tb testing.TB) (*pgxpool.Pool, string) {
	tb.Helper()
	url := testenv.PostgresURL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connect to %s: %v", url, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}

	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatalf("parse %s: %v", url, err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("pool: %v", err)
	}
	tb.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return pool, schema
}

// testPool returns a pool on a migrated schema of the test's own.
func testPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, _ := testSchema(tb)
	if err := postgres.Migrate(context.Background(), pool); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return pool
}

func TestAuthStore(t *testing.T) {
	testenv.PostgresURL(t) // skip early when there is no database
	storetest.RunAuth(t, func(t *testing.T) storetest.AuthHarness {
		return storetest.AuthHarness{Store: postgres.NewAuthStore(testPool(t))}
	})
}

func TestPing(t *testing.T) {
	s := postgres.NewAuthStore(testPool(t))
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func tables(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func versions(t *testing.T, pool *pgxpool.Pool) []int32 {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT version FROM `+postgres.MigrationsTable+` ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateConcurrentlyAndRepeatedly(t *testing.T) {
	ctx := context.Background()
	pool, _ := testSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = postgres.Migrate(ctx, pool) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate %d: %v", i, err)
		}
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	ms := postgres.Migrations()
	if got := versions(t, pool); len(got) != len(ms) || int(got[len(got)-1]) != ms[len(ms)-1].Version {
		t.Errorf("versions recorded = %v, want one per migration (%d)", got, len(ms))
	}
	want := []string{"choice_windows", "identities", "matches", "messages", "moderation_events", "refresh_families", "refresh_tokens", "rendezvous_jobs", postgres.MigrationsTable,
		"sessions", "stripe_events", "users", "verification_codes", "wallet_transactions", "wallets"}
	got := tables(t, pool)
	if len(got) != len(want) {
		t.Fatalf("tables = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tables = %v, want %v", got, want)
		}
	}
}

func TestMigrateDownAndUpAgain(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	if err := postgres.MigrateDown(ctx, pool, 0); err != nil {
		t.Fatalf("MigrateDown: %v", err)
	}
	if got := tables(t, pool); len(got) != 1 || got[0] != postgres.MigrationsTable {
		t.Errorf("tables after MigrateDown(0) = %v, want only %s", got, postgres.MigrationsTable)
	}
	if got := versions(t, pool); len(got) != 0 {
		t.Errorf("versions after MigrateDown(0) = %v, want none", got)
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate after MigrateDown: %v", err)
	}
	if got := tables(t, pool); len(got) != 15 {
		t.Errorf("tables after migrating up again = %v", got)
	}
}

func TestMigrationsAreWellFormed(t *testing.T) {
	ms := postgres.Migrations()
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d has version %d, want consecutive versions from 1", i, m.Version)
		}
		if m.Name == "" || m.Up == "" || m.Down == "" {
			t.Errorf("migration %d is incomplete: %+v", m.Version, m)
		}
	}
}
