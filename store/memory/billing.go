package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/billing"
)

var _ billing.Store = (*WalletStore)(nil)

// EventRetention is how long a WalletStore remembers the ids of the
// webhook events it has handled. Stripe redelivers an event for up to
// three days; a purchase stays credited once per Checkout Session
// forever, whatever the events.
const EventRetention = 30 * 24 * time.Hour

// WalletStore is an in-memory billing.Store. Create one with
// NewWalletStore; it is safe for concurrent use. One mutex guards every
// wallet, so each method is atomic.
//
// Ledgers are kept for the life of the process; the ids of handled webhook
// events are forgotten EventRetention after their receipt, as told by the
// store's clock, in opportunistic sweeps with no background goroutine.
type WalletStore struct {
	clock rv.Clock

	mu        sync.Mutex
	wallets   map[string]*wallet             // by user id
	purchases map[string]billing.Transaction // by Checkout Session id
	debits    map[string]billing.Transaction // by debit key
	refunds   map[string]billing.Transaction // by the refunded debit's id
	bonuses   map[string]billing.Transaction // by user id
	events    map[string]time.Time           // event id → time received
	sweeper   sweeper
}

type wallet struct {
	balance int
	ledger  []billing.Transaction // ledger[i].Seq == i+1
}

// NewWalletStore returns an empty WalletStore that forgets old webhook
// events by clock (nil means rv.SystemClock).
func NewWalletStore(clock rv.Clock) *WalletStore {
	if clock == nil {
		clock = rv.SystemClock
	}
	return &WalletStore{
		clock:     clock,
		wallets:   make(map[string]*wallet),
		purchases: make(map[string]billing.Transaction),
		debits:    make(map[string]billing.Transaction),
		refunds:   make(map[string]billing.Transaction),
		bonuses:   make(map[string]billing.Transaction),
		events:    make(map[string]time.Time),
	}
}

// Balance implements billing.Store.
func (s *WalletStore) Balance(_ context.Context, userID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.wallets[userID]; w != nil {
		return w.balance, nil
	}
	return 0, nil
}

// Transactions implements billing.Store.
func (s *WalletStore) Transactions(_ context.Context, userID string, beforeSeq int64, limit int) ([]billing.Transaction, error) {
	if limit <= 0 {
		return nil, errors.New("memory: the limit must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.wallets[userID]
	if w == nil {
		return []billing.Transaction{}, nil
	}
	end := len(w.ledger) // ledger[:end] have Seq < beforeSeq
	if beforeSeq > 0 && beforeSeq-1 < int64(end) {
		end = int(beforeSeq - 1)
	}
	out := make([]billing.Transaction, 0, min(limit, end))
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, w.ledger[i])
	}
	return out, nil
}

// CreditPurchase implements billing.Store.
func (s *WalletStore) CreditPurchase(_ context.Context, c billing.PurchaseCredit) (billing.Transaction, bool, error) {
	if c.EventID == "" || c.SessionID == "" || c.UserID == "" || c.Tokens <= 0 {
		return billing.Transaction{}, false, errors.New("memory: a purchase needs an event, a session, a user and a positive number of tokens")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepEvents()
	_, seen := s.events[c.EventID]
	prev, credited := s.purchases[c.SessionID]
	if seen || credited {
		if !seen {
			s.events[c.EventID] = c.Now
		}
		return prev, false, nil
	}
	s.events[c.EventID] = c.Now
	tx := s.apply(c.UserID, billing.Transaction{
		ID: c.TransactionID, Kind: billing.KindPurchase, Amount: c.Tokens,
		Reference: c.SessionID, PackID: c.PackID, CreatedAt: c.Now,
	})
	s.purchases[c.SessionID] = tx
	return tx, true, nil
}

// GrantBonus implements billing.Store.
func (s *WalletStore) GrantBonus(_ context.Context, c billing.BonusCredit) (billing.Transaction, bool, error) {
	if c.UserID == "" || c.Tokens <= 0 {
		return billing.Transaction{}, false, errors.New("memory: a bonus needs a user and a positive number of tokens")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.bonuses[c.UserID]; ok {
		return prev, false, nil
	}
	tx := s.apply(c.UserID, billing.Transaction{ID: c.TransactionID, Kind: billing.KindBonus, Amount: c.Tokens, CreatedAt: c.Now})
	s.bonuses[c.UserID] = tx
	return tx, true, nil
}

// Debit implements billing.Store.
func (s *WalletStore) Debit(_ context.Context, d billing.DebitRequest) (billing.Transaction, bool, error) {
	if d.UserID == "" || d.Key == "" {
		return billing.Transaction{}, false, errors.New("memory: a debit needs a user and a key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.debits[d.Key]; ok {
		return prev, false, nil
	}
	if w := s.wallets[d.UserID]; w == nil || w.balance < 1 {
		return billing.Transaction{}, false, billing.ErrInsufficientTokens
	}
	tx := s.apply(d.UserID, billing.Transaction{ID: d.TransactionID, Kind: billing.KindDebit, Amount: -1, Reference: d.Key, CreatedAt: d.Now})
	s.debits[d.Key] = tx
	return tx, true, nil
}

// Refund implements billing.Store.
func (s *WalletStore) Refund(_ context.Context, r billing.RefundRequest) (billing.Transaction, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	debit, ok := s.debits[r.DebitKey]
	if !ok {
		return billing.Transaction{}, false, billing.ErrDebitNotFound
	}
	if prev, ok := s.refunds[debit.ID]; ok {
		return prev, false, nil
	}
	tx := s.apply(debit.UserID, billing.Transaction{ID: r.TransactionID, Kind: billing.KindRefund, Amount: -debit.Amount, Reference: debit.ID, CreatedAt: r.Now})
	s.refunds[debit.ID] = tx
	return tx, true, nil
}

// apply adds tx to the ledger of userID, creating the wallet if needed,
// and returns it completed. The caller holds s.mu and has checked that the
// balance allows it.
func (s *WalletStore) apply(userID string, tx billing.Transaction) billing.Transaction {
	w := s.wallets[userID]
	if w == nil {
		w = &wallet{}
		s.wallets[userID] = w
	}
	w.balance += tx.Amount
	tx.UserID = userID
	tx.BalanceAfter = w.balance
	tx.Seq = int64(len(w.ledger) + 1)
	tx.CreatedAt = tx.CreatedAt.UTC()
	w.ledger = append(w.ledger, tx)
	return tx
}

// sweepEvents forgets the events received more than EventRetention ago,
// when a sweep is due. The caller holds s.mu.
func (s *WalletStore) sweepEvents() {
	now := s.clock.Now()
	if !s.sweeper.due(now, len(s.events)) {
		return
	}
	for id, at := range s.events {
		if now.Sub(at) > EventRetention {
			delete(s.events, id)
		}
	}
	s.sweeper.done(now, len(s.events))
}
