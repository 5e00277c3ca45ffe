package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/billing"
)

// WalletHarness is one isolated billing.Store under test.
type WalletHarness struct {
	// Store is the implementation under test, empty.
	Store billing.Store
}

// RunWallet runs the billing.Store conformance cases, each as a parallel
// subtest of t with a store from its own call of newHarness: idempotent
// purchases (per event and per Checkout Session), bonuses, debits and
// refunds, the ledger's order and pagination, and the atomicity of each
// under concurrent calls (1,000 concurrent debits of a balance of 10).
func RunWallet(t *testing.T, newHarness func(t *testing.T) WalletHarness) {
	t.Helper()
	for _, c := range walletCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			c.run(&walletT{T: t, s: h.Store, ctx: context.Background(), now: time.Now().UTC().Truncate(time.Microsecond)})
		})
	}
}

// walletT is the state of one case.
type walletT struct {
	*testing.T
	s   billing.Store
	ctx context.Context
	now time.Time
}

func (w *walletT) at(d time.Duration) time.Time { return w.now.Add(d) }

func (w *walletT) purchase(event, session, user string, tokens int) (billing.Transaction, bool, error) {
	return w.s.CreditPurchase(w.ctx, billing.PurchaseCredit{
		EventID: event, EventType: billing.EventCheckoutCompleted, SessionID: session,
		UserID: user, PackID: "plus", Tokens: tokens, TransactionID: uuid(), Now: w.now,
	})
}

// bonus grants tokens to a new user and returns the user's id.
func (w *walletT) funded(tokens int) string {
	w.Helper()
	user := uuid()
	if _, ok, err := w.s.GrantBonus(w.ctx, billing.BonusCredit{UserID: user, Tokens: tokens, TransactionID: uuid(), Now: w.now}); err != nil || !ok {
		w.Fatalf("GrantBonus: %v, %v", ok, err)
	}
	return user
}

func (w *walletT) debit(user, key string) (billing.Transaction, bool, error) {
	return w.s.Debit(w.ctx, billing.DebitRequest{UserID: user, Key: key, TransactionID: uuid(), Now: w.now})
}

func (w *walletT) refund(key string) (billing.Transaction, bool, error) {
	return w.s.Refund(w.ctx, billing.RefundRequest{DebitKey: key, TransactionID: uuid(), Now: w.now})
}

func (w *walletT) balance(user string) int {
	w.Helper()
	b, err := w.s.Balance(w.ctx, user)
	if err != nil {
		w.Fatalf("Balance: %v", err)
	}
	return b
}

func (w *walletT) wantBalance(user string, want int) {
	w.Helper()
	if got := w.balance(user); got != want {
		w.Fatalf("balance = %d, want %d", got, want)
	}
}

// ledger returns the user's whole ledger, oldest first, read in pages of
// page transactions.
func (w *walletT) ledger(user string, page int) []billing.Transaction {
	w.Helper()
	var newestFirst []billing.Transaction
	var before int64
	for {
		txs, err := w.s.Transactions(w.ctx, user, before, page)
		if err != nil {
			w.Fatalf("Transactions: %v", err)
		}
		if txs == nil {
			w.Fatal("Transactions returned nil, want a non-nil slice")
		}
		newestFirst = append(newestFirst, txs...)
		if len(txs) < page {
			break
		}
		before = txs[len(txs)-1].Seq
	}
	out := make([]billing.Transaction, len(newestFirst))
	for i, tx := range newestFirst {
		out[len(out)-1-i] = tx
	}
	return out
}

// checkLedger fails unless the user's ledger and balance agree: Seq runs
// 1..n, each BalanceAfter is the previous one plus Amount, none is
// negative, the last is the balance.
func (w *walletT) checkLedger(user string) []billing.Transaction {
	w.Helper()
	txs := w.ledger(user, 7)
	sum := 0
	for i, tx := range txs {
		sum += tx.Amount
		switch {
		case tx.Seq != int64(i+1):
			w.Fatalf("transaction %d has Seq %d, want %d", i, tx.Seq, i+1)
		case tx.BalanceAfter != sum:
			w.Fatalf("transaction %d (%s %+d) has BalanceAfter %d, want %d", i, tx.Kind, tx.Amount, tx.BalanceAfter, sum)
		case tx.BalanceAfter < 0:
			w.Fatalf("transaction %d leaves a negative balance %d", i, tx.BalanceAfter)
		case tx.UserID != user:
			w.Fatalf("transaction %d belongs to %s, want %s", i, tx.UserID, user)
		}
	}
	w.wantBalance(user, sum)
	return txs
}

func sameTransaction(a, b billing.Transaction) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.Kind == b.Kind && a.Amount == b.Amount &&
		a.BalanceAfter == b.BalanceAfter && a.Reference == b.Reference && a.PackID == b.PackID &&
		a.CreatedAt.Equal(b.CreatedAt) && a.Seq == b.Seq
}

// concurrently runs f(i) for i in [0, n) at once and waits for all.
func concurrently(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

var walletCases = []struct {
	name string
	run  func(w *walletT)
}{
	{"EmptyWallet", func(w *walletT) {
		user := uuid()
		w.wantBalance(user, 0)
		txs, err := w.s.Transactions(w.ctx, user, 0, 10)
		if err != nil || txs == nil || len(txs) != 0 {
			w.Errorf("Transactions of a new user = %v, %v; want an empty, non-nil slice", txs, err)
		}
		if _, _, err := w.debit(user, "k"); !errors.Is(err, billing.ErrInsufficientTokens) {
			w.Errorf("Debit without a wallet = %v, want ErrInsufficientTokens", err)
		}
		if _, _, err := w.refund("unknown"); !errors.Is(err, billing.ErrDebitNotFound) {
			w.Errorf("Refund of an unknown debit = %v, want ErrDebitNotFound", err)
		}
		w.wantBalance(user, 0)
	}},

	{"PurchaseCreditsOncePerEventAndSession", func(w *walletT) {
		user := uuid()
		tx, ok, err := w.purchase("evt_1", "cs_1", user, 15)
		if err != nil || !ok {
			w.Fatalf("CreditPurchase = %v, %v; want a credit", ok, err)
		}
		want := billing.Transaction{ID: tx.ID, UserID: user, Kind: billing.KindPurchase, Amount: 15, BalanceAfter: 15,
			Reference: "cs_1", PackID: "plus", CreatedAt: w.now, Seq: 1}
		if !sameTransaction(tx, want) || tx.ID == "" {
			w.Fatalf("purchase = %+v, want %+v", tx, want)
		}
		if tx.CreatedAt.Location() != time.UTC {
			w.Errorf("CreatedAt in %v, want UTC", tx.CreatedAt.Location())
		}
		// The same event again, then another event of the same session.
		for _, event := range []string{"evt_1", "evt_2", "evt_2"} {
			got, ok, err := w.purchase(event, "cs_1", user, 15)
			if err != nil || ok || !sameTransaction(got, tx) {
				w.Errorf("CreditPurchase(%s, cs_1) again = %+v, %v, %v; want the first purchase, false", event, got, ok, err)
			}
		}
		w.wantBalance(user, 15)
		// Another session credits again.
		tx2, ok, err := w.purchase("evt_3", "cs_2", user, 5)
		if err != nil || !ok || tx2.BalanceAfter != 20 || tx2.Seq != 2 || tx2.Reference != "cs_2" {
			w.Fatalf("second session = %+v, %v, %v; want a credit to 20 with Seq 2", tx2, ok, err)
		}
		if txs := w.checkLedger(user); len(txs) != 2 {
			w.Errorf("ledger has %d transactions, want 2", len(txs))
		}
	}},

	{"ConcurrentDeliveriesOfOneEvent", func(w *walletT) {
		user := uuid()
		const callers = 50
		var mu sync.Mutex
		credited, ids := 0, map[string]bool{}
		concurrently(callers, func(int) {
			tx, ok, err := w.purchase("evt_dup", "cs_dup", user, 30)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				w.Errorf("CreditPurchase: %v", err)
				return
			}
			if ok {
				credited++
			}
			ids[tx.ID] = true
		})
		if credited != 1 || len(ids) != 1 {
			w.Fatalf("%d of %d concurrent deliveries credited (transaction ids %v), want exactly 1", credited, callers, ids)
		}
		w.wantBalance(user, 30)
		w.checkLedger(user)
	}},

	{"ConcurrentEventsOfOneSession", func(w *walletT) {
		user := uuid()
		const callers = 50
		var mu sync.Mutex
		credited := 0
		concurrently(callers, func(i int) {
			_, ok, err := w.purchase(fmt.Sprintf("evt_%d", i), "cs_many", user, 5)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				w.Errorf("CreditPurchase: %v", err)
			}
			if ok {
				credited++
			}
		})
		if credited != 1 {
			w.Fatalf("%d of %d events of one session credited, want exactly 1", credited, callers)
		}
		w.wantBalance(user, 5)
		// Every event is recorded: delivering any of them again is a no-op.
		if _, ok, err := w.purchase("evt_7", "cs_many", user, 5); err != nil || ok {
			w.Errorf("redelivery = %v, %v; want no credit", ok, err)
		}
		w.checkLedger(user)
	}},

	{"BonusOncePerUser", func(w *walletT) {
		user := uuid()
		const callers = 20
		var mu sync.Mutex
		granted, ids := 0, map[string]bool{}
		concurrently(callers, func(int) {
			tx, ok, err := w.s.GrantBonus(w.ctx, billing.BonusCredit{UserID: user, Tokens: 3, TransactionID: uuid(), Now: w.now})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				w.Errorf("GrantBonus: %v", err)
				return
			}
			if ok {
				granted++
			}
			ids[tx.ID] = true
			if tx.Kind != billing.KindBonus || tx.Amount != 3 || tx.UserID != user || tx.Reference != "" {
				w.Errorf("bonus = %+v", tx)
			}
		})
		if granted != 1 || len(ids) != 1 {
			w.Fatalf("%d of %d concurrent bonuses granted (ids %v), want exactly 1", granted, callers, ids)
		}
		w.wantBalance(user, 3)
		// A purchase after the bonus adds up.
		if _, _, err := w.purchase("evt_b", "cs_b", user, 5); err != nil {
			w.Fatal(err)
		}
		w.wantBalance(user, 8)
		w.checkLedger(user)
	}},

	{"DebitIsIdempotentPerKey", func(w *walletT) {
		user := w.funded(3)
		tx, ok, err := w.debit(user, "queue:1")
		want := billing.Transaction{ID: tx.ID, UserID: user, Kind: billing.KindDebit, Amount: -1, BalanceAfter: 2,
			Reference: "queue:1", CreatedAt: w.now, Seq: 2}
		if err != nil || !ok || !sameTransaction(tx, want) {
			w.Fatalf("Debit = %+v, %v, %v; want %+v, true", tx, ok, err, want)
		}
		again, ok, err := w.debit(user, "queue:1")
		if err != nil || ok || !sameTransaction(again, tx) {
			w.Fatalf("Debit with the same key = %+v, %v, %v; want the first debit, false", again, ok, err)
		}
		w.wantBalance(user, 2)
		for _, key := range []string{"queue:2", "queue:3"} {
			if _, ok, err := w.debit(user, key); err != nil || !ok {
				w.Fatalf("Debit(%s) = %v, %v", key, ok, err)
			}
		}
		w.wantBalance(user, 0)
		if _, _, err := w.debit(user, "queue:4"); !errors.Is(err, billing.ErrInsufficientTokens) {
			w.Fatalf("Debit of an empty wallet = %v, want ErrInsufficientTokens", err)
		}
		// A known key still answers with its debit, balance or not.
		if again, ok, err := w.debit(user, "queue:1"); err != nil || ok || again.ID != tx.ID {
			w.Errorf("Debit(queue:1) of an empty wallet = %+v, %v, %v; want the first debit", again, ok, err)
		}
		// Whoever asks: the key names one debit.
		other := w.funded(1)
		if got, ok, err := w.debit(other, "queue:1"); err != nil || ok || got.ID != tx.ID || got.UserID != user {
			w.Errorf("another user's Debit(queue:1) = %+v, %v, %v; want the first user's debit", got, ok, err)
		}
		w.wantBalance(other, 1)
		if txs := w.checkLedger(user); len(txs) != 4 {
			w.Errorf("ledger has %d transactions, want 4", len(txs))
		}
	}},

	{"ConcurrentDebitsNeverOverdraw", func(w *walletT) {
		const balance, callers = 10, 1000
		user := w.funded(balance)
		var mu sync.Mutex
		won, refused := 0, 0
		concurrently(callers, func(i int) {
			_, ok, err := w.debit(user, fmt.Sprintf("d%d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && ok:
				won++
			case errors.Is(err, billing.ErrInsufficientTokens):
				refused++
			default:
				w.Errorf("Debit = %v, %v", ok, err)
			}
		})
		if won != balance || refused != callers-balance {
			w.Fatalf("%d debits succeeded and %d were refused, want %d and %d", won, refused, balance, callers-balance)
		}
		w.wantBalance(user, 0)
		if txs := w.checkLedger(user); len(txs) != balance+1 {
			w.Errorf("ledger has %d transactions, want %d", len(txs), balance+1)
		}
	}},

	{"ConcurrentDebitsOfOneKey", func(w *walletT) {
		user := w.funded(5)
		const callers = 50
		var mu sync.Mutex
		made, ids := 0, map[string]bool{}
		concurrently(callers, func(int) {
			tx, ok, err := w.debit(user, "same")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				w.Errorf("Debit: %v", err)
				return
			}
			if ok {
				made++
			}
			ids[tx.ID] = true
		})
		if made != 1 || len(ids) != 1 {
			w.Fatalf("%d of %d concurrent debits with one key were made (ids %v), want 1", made, callers, ids)
		}
		w.wantBalance(user, 4)
		w.checkLedger(user)
	}},

	{"RefundOnce", func(w *walletT) {
		user := w.funded(1)
		debit, _, err := w.debit(user, "entry")
		if err != nil {
			w.Fatal(err)
		}
		tx, ok, err := w.refund("entry")
		want := billing.Transaction{ID: tx.ID, UserID: user, Kind: billing.KindRefund, Amount: 1, BalanceAfter: 1,
			Reference: debit.ID, CreatedAt: w.now, Seq: 3}
		if err != nil || !ok || !sameTransaction(tx, want) || tx.ID == debit.ID {
			w.Fatalf("Refund = %+v, %v, %v; want %+v, true", tx, ok, err, want)
		}
		again, ok, err := w.refund("entry")
		if err != nil || ok || !sameTransaction(again, tx) {
			w.Fatalf("Refund again = %+v, %v, %v; want the first refund, false", again, ok, err)
		}
		w.wantBalance(user, 1)
		// The key stays used: debiting it again is still the first debit.
		if got, ok, err := w.debit(user, "entry"); err != nil || ok || got.ID != debit.ID {
			w.Errorf("Debit(entry) after its refund = %+v, %v, %v; want the first debit", got, ok, err)
		}
		w.wantBalance(user, 1)
		w.checkLedger(user)
	}},

	{"ConcurrentRefundsOfOneDebit", func(w *walletT) {
		user := w.funded(2)
		if _, _, err := w.debit(user, "entry"); err != nil {
			w.Fatal(err)
		}
		const callers = 50
		var mu sync.Mutex
		made, ids := 0, map[string]bool{}
		concurrently(callers, func(int) {
			tx, ok, err := w.refund("entry")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				w.Errorf("Refund: %v", err)
				return
			}
			if ok {
				made++
			}
			ids[tx.ID] = true
		})
		if made != 1 || len(ids) != 1 {
			w.Fatalf("%d of %d concurrent refunds were made (ids %v), want 1", made, callers, ids)
		}
		w.wantBalance(user, 2)
		w.checkLedger(user)
	}},

	{"TransactionsPageNewestFirst", func(w *walletT) {
		user := w.funded(10)
		for i := range 6 {
			if _, _, err := w.debit(user, fmt.Sprintf("p%d", i)); err != nil {
				w.Fatal(err)
			}
		}
		page := func(before int64, limit int) []int64 {
			w.Helper()
			txs, err := w.s.Transactions(w.ctx, user, before, limit)
			if err != nil {
				w.Fatalf("Transactions(%d, %d): %v", before, limit, err)
			}
			seqs := make([]int64, len(txs))
			for i, tx := range txs {
				seqs[i] = tx.Seq
			}
			return seqs
		}
		eq := func(got []int64, want ...int64) bool {
			if len(got) != len(want) {
				return false
			}
			for i := range got {
				if got[i] != want[i] {
					return false
				}
			}
			return true
		}
		if got := page(0, 3); !eq(got, 7, 6, 5) {
			w.Fatalf("first page = %v, want [7 6 5]", got)
		}
		// New transactions do not shift the pages below a cursor.
		if _, _, err := w.debit(user, "later"); err != nil {
			w.Fatal(err)
		}
		if got := page(5, 3); !eq(got, 4, 3, 2) {
			w.Fatalf("page before 5 = %v, want [4 3 2]", got)
		}
		if got := page(2, 3); !eq(got, 1) {
			w.Fatalf("page before 2 = %v, want [1]", got)
		}
		if got := page(1, 3); !eq(got) {
			w.Fatalf("page before 1 = %v, want none", got)
		}
		if got := page(0, 100); !eq(got, 8, 7, 6, 5, 4, 3, 2, 1) {
			w.Fatalf("everything = %v", got)
		}
		if got := page(100, 2); !eq(got, 8, 7) {
			w.Fatalf("page before 100 = %v, want [8 7]", got)
		}
		txs := w.checkLedger(user)
		if txs[0].Kind != billing.KindBonus || txs[7].Reference != "later" {
			w.Errorf("ledger = %+v", txs)
		}
	}},

	{"LedgerMatchesBalanceUnderConcurrency", func(w *walletT) {
		user := w.funded(3)
		const workers = 40
		concurrently(workers, func(i int) {
			switch i % 4 {
			case 0:
				if _, _, err := w.purchase(fmt.Sprintf("evt_m%d", i), fmt.Sprintf("cs_m%d", i), user, 2); err != nil {
					w.Errorf("CreditPurchase: %v", err)
				}
			case 1, 2:
				key := fmt.Sprintf("m%d", i)
				if _, _, err := w.debit(user, key); err != nil && !errors.Is(err, billing.ErrInsufficientTokens) {
					w.Errorf("Debit: %v", err)
				} else if err == nil && i%4 == 2 {
					if _, _, err := w.refund(key); err != nil {
						w.Errorf("Refund: %v", err)
					}
				}
			case 3:
				if _, err := w.s.Balance(w.ctx, user); err != nil {
					w.Errorf("Balance: %v", err)
				}
			}
		})
		w.checkLedger(user)
	}},

	{"WalletsAreSeparate", func(w *walletT) {
		a, b := w.funded(2), uuid()
		if _, _, err := w.debit(a, "a1"); err != nil {
			w.Fatal(err)
		}
		if _, _, err := w.debit(b, "b1"); !errors.Is(err, billing.ErrInsufficientTokens) {
			w.Fatalf("Debit of b = %v, want ErrInsufficientTokens", err)
		}
		if _, _, err := w.purchase("evt_s", "cs_s", b, 5); err != nil {
			w.Fatal(err)
		}
		w.wantBalance(a, 1)
		w.wantBalance(b, 5)
		if txs := w.checkLedger(b); len(txs) != 1 || txs[0].Seq != 1 {
			w.Errorf("b's ledger = %+v, want only its purchase", txs)
		}
		w.checkLedger(a)
	}},

	{"TimesComeBackInUTC", func(w *walletT) {
		user := uuid()
		when := w.now.In(time.FixedZone("UTC+5", 5*3600))
		tx, _, err := w.s.GrantBonus(w.ctx, billing.BonusCredit{UserID: user, Tokens: 1, TransactionID: uuid(), Now: when})
		if err != nil {
			w.Fatal(err)
		}
		txs := w.ledger(user, 10)
		for _, got := range []billing.Transaction{tx, txs[0]} {
			if !got.CreatedAt.Equal(w.now) || got.CreatedAt.Location() != time.UTC {
				w.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, w.now)
			}
		}
		later := w.at(time.Hour)
		d, _, err := w.s.Debit(w.ctx, billing.DebitRequest{UserID: user, Key: "t", TransactionID: uuid(), Now: later})
		if err != nil || !d.CreatedAt.Equal(later) {
			w.Errorf("debit at %v = %+v, %v", later, d, err)
		}
	}},
}
