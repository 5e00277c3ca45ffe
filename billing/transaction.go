package billing

import "time"

// Kind is the kind of a ledger Transaction.
type Kind string

// The kinds of transaction.
const (
	// KindPurchase credits the tokens of a paid Checkout Session; its
	// Reference is the session id and its PackID the pack bought.
	KindPurchase Kind = "purchase"
	// KindDebit takes one token; its Reference is the debit key.
	KindDebit Kind = "debit"
	// KindRefund gives a debited token back; its Reference is the id of
	// the debit transaction it refunds.
	KindRefund Kind = "refund"
	// KindBonus credits the sign-up bonus, once per user.
	KindBonus Kind = "bonus"
)

// Transaction is one entry of a user's token ledger. Every change of a
// balance is one transaction written together with the balance, so the
// ledger and the balance never disagree: the transactions of a user, in
// Seq order, add up to the balance, and each one's BalanceAfter is the
// previous one's plus its Amount.
type Transaction struct {
	// ID is a UUID.
	ID string `json:"id"`
	// UserID is the owner of the wallet.
	UserID string `json:"-"`
	// Kind tells what the transaction is.
	Kind Kind `json:"kind"`
	// Amount is the change of the balance: positive for a credit,
	// negative for a debit.
	Amount int `json:"amount"`
	// BalanceAfter is the balance right after the transaction.
	BalanceAfter int `json:"balanceAfter"`
	// Reference is what makes the transaction unique: the Checkout Session
	// id of a purchase, the key of a debit, the transaction id of the
	// debit a refund gives back; empty for a bonus.
	Reference string `json:"reference,omitempty"`
	// PackID is the pack of a purchase.
	PackID string `json:"packId,omitempty"`
	// CreatedAt is the time of the transaction, in UTC with microsecond
	// precision.
	CreatedAt time.Time `json:"createdAt"`
	// Seq is the transaction's position in its user's ledger: 1 for the
	// first, then counting up with no gap, in the order in which the
	// balance changed. Pagination cursors are built from it.
	Seq int64 `json:"-"`
}

// Page is one page of a user's ledger, newest first.
type Page struct {
	// Transactions is never nil.
	Transactions []Transaction `json:"transactions"`
	// NextCursor fetches the next, older page; empty on the last page.
	NextCursor string `json:"nextCursor,omitempty"`
}
