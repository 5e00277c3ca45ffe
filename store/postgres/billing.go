package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

var _ billing.Store = (*WalletStore)(nil)

// WalletStore is a billing.Store kept in Postgres (the tables of
// migration 002_billing), shared by every instance that uses the same
// database and schema. Create one with NewWalletStore after Migrate; it is
// safe for concurrent use.
//
// Every change of a balance is one statement that updates the wallet row
// (which locks it) and inserts the ledger row from the updated values, so
// the balance and the ledger change together or not at all. A debit's
// UPDATE only matches while balance >= 1, and the table's CHECK (balance
// >= 0) backs that up. Unique indexes make purchases (per Checkout
// Session), debits (per key), refunds (per debit) and bonuses (per user)
// idempotent: a concurrent duplicate fails on the index, is rolled back
// whole, and is answered with the row that won. A purchase records its
// webhook event in the same transaction as the credit.
//
// User ids must be UUIDs (billing.Service makes sure of it); an id that is
// not one has no wallet.
type WalletStore struct {
	pool *pgxpool.Pool
}

// NewWalletStore returns a WalletStore that runs its queries on pool, in
// the pool's current schema.
func NewWalletStore(pool *pgxpool.Pool) *WalletStore {
	return &WalletStore{pool: pool}
}

// txColumns are the columns scanned by scanTransaction.
const txColumns = `id::text, user_id::text, kind, amount, balance_after, reference, pack_id, created_at, seq`

func scanTransaction(row pgx.Row) (billing.Transaction, error) {
	var (
		tx   billing.Transaction
		kind string
	)
	err := row.Scan(&tx.ID, &tx.UserID, &kind, &tx.Amount, &tx.BalanceAfter, &tx.Reference, &tx.PackID, &tx.CreatedAt, &tx.Seq)
	tx.Kind = billing.Kind(kind)
	tx.CreatedAt = tx.CreatedAt.UTC()
	return tx, err
}

// applyCredit adds $2 tokens to the wallet of user $1 (creating it) and
// inserts the transaction: id $4, kind $5, reference $6, pack $7, at $3.
const applyCredit = `WITH w AS (
		INSERT INTO wallets AS w (user_id, balance, seq, updated_at) VALUES ($1, $2, 1, $3)
		ON CONFLICT (user_id) DO UPDATE
			SET balance = w.balance + EXCLUDED.balance, seq = w.seq + 1, updated_at = EXCLUDED.updated_at
		RETURNING balance, seq
	)
	INSERT INTO wallet_transactions (id, user_id, seq, kind, amount, balance_after, reference, pack_id, created_at)
	SELECT $4, $1, w.seq, $5, $2, w.balance, $6, $7, $3 FROM w
	RETURNING ` + txColumns

// applyDebit takes one token from the wallet of user $1 if it has one and
// inserts the debit: key $2, at $3, id $4. It returns no row when the
// balance is below one.
const applyDebit = `WITH w AS (
		UPDATE wallets SET balance = balance - 1, seq = seq + 1, updated_at = $3
		WHERE user_id = $1 AND balance >= 1
		RETURNING balance, seq
	)
	INSERT INTO wallet_transactions (id, user_id, seq, kind, amount, balance_after, reference, created_at)
	SELECT $4, $1, w.seq, 'debit', -1, w.balance, $2, $3 FROM w
	RETURNING ` + txColumns

// applyRefund gives $2 tokens back to the wallet of user $1 and inserts
// the refund of debit $5: at $3, id $4.
const applyRefund = `WITH w AS (
		UPDATE wallets SET balance = balance + $2, seq = seq + 1, updated_at = $3
		WHERE user_id = $1
		RETURNING balance, seq
	)
	INSERT INTO wallet_transactions (id, user_id, seq, kind, amount, balance_after, reference, created_at)
	SELECT $4, $1, w.seq, 'refund', $2, w.balance, $5, $3 FROM w
	RETURNING ` + txColumns

// Balance implements billing.Store.
func (s *WalletStore) Balance(ctx context.Context, userID string) (int, error) {
	if !uuid.Valid(userID) {
		return 0, nil
	}
	var balance int
	err := s.pool.QueryRow(ctx, `SELECT balance FROM wallets WHERE user_id = $1`, userID).Scan(&balance)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, wrapUnavailable(fmt.Errorf("postgres: read balance: %w", err))
	}
	return balance, nil
}

// Transactions implements billing.Store.
func (s *WalletStore) Transactions(ctx context.Context, userID string, beforeSeq int64, limit int) ([]billing.Transaction, error) {
	if limit <= 0 {
		return nil, errors.New("postgres: the limit must be positive")
	}
	if !uuid.Valid(userID) {
		return []billing.Transaction{}, nil
	}
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	rows, err := s.pool.Query(ctx, `SELECT `+txColumns+` FROM wallet_transactions
		WHERE user_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, userID, beforeSeq, limit)
	if err != nil {
		return nil, wrapUnavailable(fmt.Errorf("postgres: read transactions: %w", err))
	}
	txs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Transaction, error) { return scanTransaction(row) })
	if err != nil {
		return nil, wrapUnavailable(fmt.Errorf("postgres: read transactions: %w", err))
	}
	if txs == nil {
		txs = []billing.Transaction{}
	}
	return txs, nil
}

// CreditPurchase implements billing.Store in one transaction: record the
// event (a redelivery finds it recorded), look for the session's purchase,
// credit. A concurrent credit of the same session by another event makes
// the insert fail on the unique index; the whole transaction is then
// rolled back and run again, and finds the session credited.
func (s *WalletStore) CreditPurchase(ctx context.Context, c billing.PurchaseCredit) (billing.Transaction, bool, error) {
	if c.EventID == "" || c.SessionID == "" || !uuid.Valid(c.UserID) || c.Tokens <= 0 {
		return billing.Transaction{}, false, errors.New("postgres: a purchase needs an event, a session, a user id and a positive number of tokens")
	}
	for attempt := 0; ; attempt++ {
		var (
			tx       billing.Transaction
			credited bool
		)
		err := pgx.BeginFunc(ctx, s.pool, func(dbtx pgx.Tx) error {
			var recorded bool
			err := dbtx.QueryRow(ctx, `INSERT INTO stripe_events (id, type, received_at) VALUES ($1, $2, $3)
				ON CONFLICT (id) DO NOTHING RETURNING true`, c.EventID, c.EventType, c.Now).Scan(&recorded)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			tx, err = scanTransaction(dbtx.QueryRow(ctx, `SELECT `+txColumns+` FROM wallet_transactions
				WHERE kind = 'purchase' AND reference = $1`, c.SessionID))
			switch {
			case err == nil:
				return nil // the session is credited already
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			case !recorded:
				tx = billing.Transaction{} // the event was handled already
				return nil
			}
			tx, err = scanTransaction(dbtx.QueryRow(ctx, applyCredit,
				c.UserID, c.Tokens, c.Now, c.TransactionID, string(billing.KindPurchase), c.SessionID, c.PackID))
			credited = err == nil
			return err
		})
		if err != nil && pgErrorCode(err) == "23505" && attempt < 3 { // unique_violation: a concurrent credit won
			continue
		}
		if err != nil {
			return billing.Transaction{}, false, wrapUnavailable(fmt.Errorf("postgres: credit purchase: %w", err))
		}
		return tx, credited, nil
	}
}

// GrantBonus implements billing.Store.
func (s *WalletStore) GrantBonus(ctx context.Context, c billing.BonusCredit) (billing.Transaction, bool, error) {
	if !uuid.Valid(c.UserID) || c.Tokens <= 0 {
		return billing.Transaction{}, false, errors.New("postgres: a bonus needs a user id and a positive number of tokens")
	}
	const existing = `SELECT ` + txColumns + ` FROM wallet_transactions WHERE kind = 'bonus' AND user_id = $1`
	return s.once(ctx, "grant bonus",
		func() (billing.Transaction, error) { return scanTransaction(s.pool.QueryRow(ctx, existing, c.UserID)) },
		func() (billing.Transaction, error) {
			return scanTransaction(s.pool.QueryRow(ctx, applyCredit,
				c.UserID, c.Tokens, c.Now, c.TransactionID, string(billing.KindBonus), "", ""))
		})
}

// Debit implements billing.Store.
func (s *WalletStore) Debit(ctx context.Context, d billing.DebitRequest) (billing.Transaction, bool, error) {
	if d.Key == "" {
		return billing.Transaction{}, false, errors.New("postgres: a debit needs a key")
	}
	const existing = `SELECT ` + txColumns + ` FROM wallet_transactions WHERE kind = 'debit' AND reference = $1`
	return s.once(ctx, "debit",
		func() (billing.Transaction, error) { return scanTransaction(s.pool.QueryRow(ctx, existing, d.Key)) },
		func() (billing.Transaction, error) {
			if !uuid.Valid(d.UserID) {
				return billing.Transaction{}, billing.ErrInsufficientTokens
			}
			tx, err := scanTransaction(s.pool.QueryRow(ctx, applyDebit, d.UserID, d.Key, d.Now, d.TransactionID))
			if errors.Is(err, pgx.ErrNoRows) {
				return billing.Transaction{}, billing.ErrInsufficientTokens
			}
			return tx, err
		})
}

// Refund implements billing.Store.
func (s *WalletStore) Refund(ctx context.Context, r billing.RefundRequest) (billing.Transaction, bool, error) {
	var debitID, userID string
	var amount int
	err := s.pool.QueryRow(ctx, `SELECT id::text, user_id::text, amount FROM wallet_transactions
		WHERE kind = 'debit' AND reference = $1`, r.DebitKey).Scan(&debitID, &userID, &amount)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return billing.Transaction{}, false, billing.ErrDebitNotFound
	case err != nil:
		return billing.Transaction{}, false, wrapUnavailable(fmt.Errorf("postgres: refund: %w", err))
	}
	const existing = `SELECT ` + txColumns + ` FROM wallet_transactions WHERE kind = 'refund' AND reference = $1`
	return s.once(ctx, "refund",
		func() (billing.Transaction, error) { return scanTransaction(s.pool.QueryRow(ctx, existing, debitID)) },
		func() (billing.Transaction, error) {
			return scanTransaction(s.pool.QueryRow(ctx, applyRefund, userID, -amount, r.Now, r.TransactionID, debitID))
		})
}

// once makes a transaction that must exist at most once: it returns the
// one that find finds, with false; else the one that create makes, with
// true. When create fails on a unique index, a concurrent call has made it
// first (create's statement is rolled back whole): that one is returned,
// with false.
func (s *WalletStore) once(ctx context.Context, what string, find, create func() (billing.Transaction, error)) (billing.Transaction, bool, error) {
	tx, err := find()
	switch {
	case err == nil:
		return tx, false, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return billing.Transaction{}, false, wrapUnavailable(fmt.Errorf("postgres: %s: %w", what, err))
	}
	tx, err = create()
	switch {
	case err == nil:
		return tx, true, nil
	case errors.Is(err, billing.ErrInsufficientTokens):
		return billing.Transaction{}, false, err
	case pgErrorCode(err) == "23505": // unique_violation
		if tx, err = find(); err == nil {
			return tx, false, nil
		}
	}
	return billing.Transaction{}, false, wrapUnavailable(fmt.Errorf("postgres: %s: %w", what, err))
}
