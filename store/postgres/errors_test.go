package postgres_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/postgres"
)

const (
	testUser = "6f1c2f4e-3a59-4d43-9a55-3c1f0b7d2a10"
	testTxID = "0b8f9c1e-5d7a-4e2b-8f3c-1a2b3c4d5e6f"
)

// walletOps calls every method of s that queries the database.
func walletOps(s *postgres.WalletStore) map[string]func(context.Context) error {
	now := time.Now()
	return map[string]func(context.Context) error{
		"Balance": func(ctx context.Context) error { _, err := s.Balance(ctx, testUser); return err },
		"Transactions": func(ctx context.Context) error {
			_, err := s.Transactions(ctx, testUser, 0, 10)
			return err
		},
		"CreditPurchase": func(ctx context.Context) error {
			_, _, err := s.CreditPurchase(ctx, billing.PurchaseCredit{EventID: "evt_1", EventType: "checkout.session.completed",
				SessionID: "cs_1", UserID: testUser, PackID: "starter", Tokens: 5, TransactionID: testTxID, Now: now})
			return err
		},
		"GrantBonus": func(ctx context.Context) error {
			_, _, err := s.GrantBonus(ctx, billing.BonusCredit{UserID: testUser, Tokens: 1, TransactionID: testTxID, Now: now})
			return err
		},
		"Debit": func(ctx context.Context) error {
			_, _, err := s.Debit(ctx, billing.DebitRequest{UserID: testUser, Key: "k1", TransactionID: testTxID, Now: now})
			return err
		},
		"Refund": func(ctx context.Context) error {
			_, _, err := s.Refund(ctx, billing.RefundRequest{DebitKey: "k1", TransactionID: testTxID, Now: now})
			return err
		},
	}
}

func wantUnavailable(t *testing.T, name string, err error) {
	t.Helper()
	if !errors.Is(err, rv.ErrStoreUnavailable) || rv.CodeOf(err) != "STORE_UNAVAILABLE" {
		t.Errorf("%s: %v (code %s), want STORE_UNAVAILABLE", name, err, rv.CodeOf(err))
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// hungServer accepts connections and never answers.
func hungServer(t *testing.T) string {
	t.Helper()
	addr, _ := testenv.HungServer(t)
	return addr
}

func poolAt(t *testing.T, addr string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://root@"+addr+"/test?sslmode=disable&connect_timeout=10")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestWalletStoreUnavailableWhenPostgresRefuses(t *testing.T) {
	for name, op := range walletOps(postgres.NewWalletStore(poolAt(t, closedPort(t)))) {
		wantUnavailable(t, name, op(context.Background()))
	}
}

func TestWalletStoreUnavailableWhenPostgresHangs(t *testing.T) {
	for name, op := range walletOps(postgres.NewWalletStore(poolAt(t, hungServer(t)))) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := op(ctx)
		cancel()
		wantUnavailable(t, name, err)
		if !errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err) {
			t.Errorf("%s: %v is not a timeout", name, err)
		}
	}
}

// On a real server: a query stuck behind a lock past its deadline, or
// past statement_timeout, is STORE_UNAVAILABLE; a canceled one is not, and
// neither are the store's own errors.
func TestWalletStoreTimeoutsOnPostgres(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := postgres.NewWalletStore(pool)
	if _, _, err := s.GrantBonus(ctx, billing.BonusCredit{UserID: testUser, Tokens: 3, TransactionID: testTxID, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	lock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx)
	if _, err := lock.Exec(ctx, `SELECT 1 FROM wallets WHERE user_id = $1 FOR UPDATE`, testUser); err != nil {
		t.Fatal(err)
	}
	debit := func(ctx context.Context, s *postgres.WalletStore, key string) error {
		_, _, err := s.Debit(ctx, billing.DebitRequest{UserID: testUser, Key: key, TransactionID: "1b8f9c1e-5d7a-4e2b-8f3c-1a2b3c4d5e6f", Now: time.Now()})
		return err
	}

	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err = debit(dctx, s, "k-deadline")
	cancel()
	wantUnavailable(t, "Debit past its deadline", err)

	cfg := pool.Config()
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "200"
	short, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	err = debit(ctx, postgres.NewWalletStore(short), "k-statement-timeout")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("Debit past statement_timeout: %v, want SQLSTATE 57014", err)
	}
	wantUnavailable(t, "Debit past statement_timeout", err)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := debit(cctx, s, "k-canceled"); err == nil || errors.Is(err, rv.ErrStoreUnavailable) {
		t.Errorf("canceled Debit: %v, want a plain cancellation", err)
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Transactions(ctx, testUser, 0, 0); err == nil || errors.Is(err, rv.ErrStoreUnavailable) {
		t.Errorf("Transactions with limit 0: %v, want a plain error", err)
	}
	if _, _, err := s.Refund(ctx, billing.RefundRequest{DebitKey: "never", TransactionID: testTxID, Now: time.Now()}); !errors.Is(err, billing.ErrDebitNotFound) {
		t.Errorf("Refund of an unknown debit: %v", err)
	}
}
