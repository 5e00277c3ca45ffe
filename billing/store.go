package billing

import (
	"context"
	"time"
)

// PurchaseCredit asks a Store to credit a paid Checkout Session reported
// by a verified webhook event.
type PurchaseCredit struct {
	// EventID and EventType identify the webhook event; the event is
	// recorded so that its redelivery changes nothing.
	EventID, EventType string
	// SessionID is the Checkout Session: the purchase's Reference, credited
	// once whatever the number of events that report it.
	SessionID string
	// UserID is the buyer, whose wallet is credited.
	UserID string
	// PackID is the pack bought.
	PackID string
	// Tokens is the pack's size, from the server's configuration;
	// positive.
	Tokens int
	// TransactionID is the id of the purchase transaction, if one is made.
	TransactionID string
	// Now is the time of the credit and of the event's receipt.
	Now time.Time
}

// BonusCredit asks a Store for a user's sign-up bonus.
type BonusCredit struct {
	// UserID is the user whose wallet is credited.
	UserID string
	// Tokens is the size of the bonus; positive.
	Tokens int
	// TransactionID is the id of the bonus transaction, if one is made.
	TransactionID string
	// Now is the time of the credit.
	Now time.Time
}

// DebitRequest asks a Store to take one token from a user's wallet.
type DebitRequest struct {
	// UserID is the user whose wallet is debited.
	UserID string
	// Key identifies the debit: one key is one debit, whoever asks again.
	Key string
	// TransactionID is the id of the debit transaction, if one is made.
	TransactionID string
	// Now is the time of the debit.
	Now time.Time
}

// RefundRequest asks a Store to give a debited token back.
type RefundRequest struct {
	// DebitKey is the Key of the debit to refund.
	DebitKey string
	// TransactionID is the id of the refund transaction, if one is made.
	TransactionID string
	// Now is the time of the refund.
	Now time.Time
}

// Store keeps the token wallets: one balance per user and the ledger of
// its transactions. Every method is atomic: the checks it documents and
// the changes it makes happen as one step, whatever other calls run
// concurrently on any process. A balance and its ledger change together:
// a new transaction gets the next Seq of its user and, as BalanceAfter,
// the balance it leaves. No balance ever goes below zero (store/postgres
// enforces it with a CHECK constraint as well).
//
// A user without a wallet has a balance of 0 and no transactions; the
// first credit creates the wallet. User ids are UUIDs. Times come back in
// UTC with at least microsecond precision (the Service passes times
// truncated to the microsecond).
//
// Implementations: store/memory and store/postgres. The conformance suite
// in store/storetest (RunWallet) runs both through the same cases.
type Store interface {
	// Balance returns the user's balance, 0 when the user has no wallet.
	Balance(ctx context.Context, userID string) (int, error)
	// Transactions returns at most limit (> 0) of the user's transactions,
	// newest first (by descending Seq), whose Seq is below beforeSeq, or
	// the newest ones when beforeSeq is 0. It returns an empty slice for a
	// user without a wallet.
	Transactions(ctx context.Context, userID string, beforeSeq int64, limit int) ([]Transaction, error)

	// CreditPurchase records the event c.EventID and credits the purchase
	// of session c.SessionID, in one transaction:
	//
	//   - the event is already recorded, or the session already credited
	//     (by another event): nothing changes (the event is recorded in
	//     the second case), and the session's purchase transaction is
	//     returned with false;
	//   - else c.Tokens are added to the user's wallet (created if needed)
	//     with a KindPurchase transaction whose Reference is c.SessionID and
	//     PackID c.PackID, returned with true.
	//
	// Of concurrent calls for one event or one session exactly one
	// credits.
	CreditPurchase(ctx context.Context, c PurchaseCredit) (Transaction, bool, error)
	// GrantBonus adds c.Tokens to the user's wallet (created if needed)
	// with a KindBonus transaction, returned with true, unless the user
	// already has one: that one is returned with false and nothing
	// changes.
	GrantBonus(ctx context.Context, c BonusCredit) (Transaction, bool, error)
	// Debit takes one token from the user's wallet with a KindDebit
	// transaction of Amount -1 whose Reference is d.Key:
	//
	//   - a debit with d.Key exists: it is returned with false, whatever
	//     its user and the balance, and nothing changes;
	//   - the balance is below 1 (or there is no wallet):
	//     ErrInsufficientTokens;
	//   - else the new debit is returned with true.
	//
	// Of concurrent debits of one wallet no more succeed than it has
	// tokens, and of concurrent debits with one key exactly one is made.
	Debit(ctx context.Context, d DebitRequest) (Transaction, bool, error)
	// Refund gives back the token of the debit with key r.DebitKey with a
	// KindRefund transaction of Amount +1 in the debit's user's wallet,
	// whose Reference is the debit's transaction id:
	//
	//   - no such debit: ErrDebitNotFound;
	//   - the debit is already refunded: that refund is returned with
	//     false and nothing changes;
	//   - else the new refund is returned with true.
	//
	// Of concurrent refunds of one debit exactly one is made.
	Refund(ctx context.Context, r RefundRequest) (Transaction, bool, error)
}
