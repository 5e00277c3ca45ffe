package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestWalletStore(t *testing.T) {
	testenv.PostgresURL(t) // skip early when there is no database
	storetest.RunWallet(t, func(t *testing.T) storetest.WalletHarness {
		return storetest.WalletHarness{Store: postgres.NewWalletStore(testPool(t))}
	})
}

// TestWalletConstraints checks that the schema itself refuses a negative
// balance and a second purchase of one Checkout Session, whatever the
// code that writes.
func TestWalletConstraints(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	s := postgres.NewWalletStore(pool)
	const user = "6f1c2f4e-3a59-4d43-9a55-3c1f0b7d2a10"
	if _, _, err := s.GrantBonus(ctx, billing.BonusCredit{UserID: user, Tokens: 1, TransactionID: "0b8f9c1e-5d7a-4e2b-8f3c-1a2b3c4d5e6f", Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE wallets SET balance = balance - 2 WHERE user_id = $1`, user); err == nil {
		t.Error("the schema accepted a negative balance")
	}
	_, err := pool.Exec(ctx, `INSERT INTO wallet_transactions (id, user_id, seq, kind, amount, balance_after, reference, created_at)
		VALUES (gen_random_uuid(), $1, 2, 'purchase', 5, 6, 'cs_1', now()), (gen_random_uuid(), $1, 3, 'purchase', 5, 11, 'cs_1', now())`, user)
	if err == nil {
		t.Error("the schema accepted two purchases of one session")
	}
	if b, err := s.Balance(ctx, user); err != nil || b != 1 {
		t.Errorf("Balance = %d, %v; want 1", b, err)
	}
	// Ids that are not UUIDs have no wallet.
	if b, err := s.Balance(ctx, "not-a-uuid"); err != nil || b != 0 {
		t.Errorf("Balance(not-a-uuid) = %d, %v", b, err)
	}
	if _, _, err := s.Debit(ctx, billing.DebitRequest{UserID: "not-a-uuid", Key: "k", TransactionID: "0b8f9c1e-5d7a-4e2b-8f3c-1a2b3c4d5e70", Now: time.Now()}); !errors.Is(err, billing.ErrInsufficientTokens) {
		t.Errorf("Debit(not-a-uuid) = %v, want ErrInsufficientTokens", err)
	}
}
