package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestWalletStore(t *testing.T) {
	storetest.RunWallet(t, func(t *testing.T) storetest.WalletHarness {
		return storetest.WalletHarness{Store: memory.NewWalletStore(nil)}
	})
}

func TestWalletStoreForgetsOldEvents(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC))
	s := memory.NewWalletStore(clock)
	credit := func(i int) {
		t.Helper()
		_, ok, err := s.CreditPurchase(ctx, billing.PurchaseCredit{
			EventID: fmt.Sprintf("evt_%d", i), EventType: billing.EventCheckoutCompleted,
			SessionID: fmt.Sprintf("cs_%d", i), UserID: "u", PackID: "starter", Tokens: 1,
			TransactionID: fmt.Sprint(i), Now: clock.Now(),
		})
		if err != nil || !ok {
			t.Fatalf("CreditPurchase(%d) = %v, %v", i, ok, err)
		}
	}
	for i := range 100 {
		credit(i)
	}
	clock.Advance(memory.EventRetention + 2*time.Minute)
	credit(100)
	if n := memory.WalletEventCount(s); n != 1 {
		t.Errorf("%d events remembered after the others' retention, want 1", n)
	}
	// A forgotten event still credits its session once.
	if _, ok, err := s.CreditPurchase(ctx, billing.PurchaseCredit{
		EventID: "evt_0", EventType: billing.EventCheckoutCompleted, SessionID: "cs_0",
		UserID: "u", PackID: "starter", Tokens: 1, TransactionID: "x", Now: clock.Now(),
	}); err != nil || ok {
		t.Errorf("redelivery of a forgotten event = %v, %v; want no credit", ok, err)
	}
	if b, _ := s.Balance(ctx, "u"); b != 101 {
		t.Errorf("balance = %d, want 101", b)
	}
}
