package billing_test

import (
	"context"
	"fmt"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

func Example() {
	ctx := context.Background()
	svc, err := billing.New(billing.Config{
		Store:       memory.NewWalletStore(nil), // postgres.NewWalletStore(pool) in production
		SignupBonus: 1,
		// Payments: a billing/stripe.Payments sells the packs.
	})
	if err != nil {
		panic(err)
	}
	user := "8a0f7a4e-2f7c-4d6b-9a51-0c3f1d2e4b5a"

	_ = svc.GrantSignupBonus(ctx, user)
	_ = svc.GrantSignupBonus(ctx, user) // once per user

	// POST /queue/join: one token, keyed by the queue entry.
	debit, err := svc.Debit(ctx, user, "queue:entry-1")
	fmt.Println("debit:", debit.Amount, "balance:", debit.BalanceAfter, err)
	_, err = svc.Debit(ctx, user, "queue:entry-2")
	fmt.Println("second join:", rv.CodeOf(err))

	// DELETE /queue/leave before a match: the token comes back, once.
	_, refunded, _ := svc.Refund(ctx, "queue:entry-1")
	_, again, _ := svc.Refund(ctx, "queue:entry-1")
	fmt.Println("refunded:", refunded, again)

	balance, _ := svc.Balance(ctx, user)
	page, _ := svc.Transactions(ctx, user, "", 0)
	fmt.Println("balance:", balance)
	for _, tx := range page.Transactions {
		fmt.Printf("%-6s %+d → %d\n", tx.Kind, tx.Amount, tx.BalanceAfter)
	}

	// Without Stripe, purchases are unavailable (503).
	_, err = svc.Purchase(ctx, user, "plus")
	fmt.Println("purchase:", rv.CodeOf(err))
	// Output:
	// debit: -1 balance: 0 <nil>
	// second join: INSUFFICIENT_TOKENS
	// refunded: true false
	// balance: 1
	// refund +1 → 1
	// debit  -1 → 0
	// bonus  +1 → 1
	// purchase: PAYMENTS_UNAVAILABLE
}
