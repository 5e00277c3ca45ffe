package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/optin"
)

var _ optin.Store = (*OptinStore)(nil)

// OptinStore is an optin.Store kept in Postgres (the choice_windows and
// matches tables of migration 005_dating), shared by every instance that
// uses the same database and schema. Create one with NewOptinStore after
// Migrate; it is safe for concurrent use.
//
// Choose and Expire run in one transaction that locks the window's row
// (SELECT ... FOR UPDATE), so a window is resolved exactly once; a mutual
// outcome inserts the pair's match in the same transaction, ON CONFLICT on
// the sorted pair of users taking the existing live match, so a Match
// exists exactly when an outcome is mutual and a pair of users has one
// live match at most. A match removed by the chat feature (an unmatch) is
// not found and never taken again: the next mutual outcome of the pair
// makes a new one.
// Times are kept to the microsecond and returned in UTC.
//
// Session and match ids must be UUIDs (the services make sure of it); an
// id that is not one is not found.
type OptinStore struct {
	pool *pgxpool.Pool
}

// NewOptinStore returns an OptinStore that runs its queries on pool, in
// the pool's current schema.
func NewOptinStore(pool *pgxpool.Pool) *OptinStore {
	return &OptinStore{pool: pool}
}

// windowColumns are the columns scanned by scanWindow.
const windowColumns = `session_id::text, user_a, user_b, coalesce(choice_a, ''), coalesce(choice_b, ''),
	deadline, coalesce(outcome, ''), coalesce(match_id::text, ''), resolved_at`

func scanWindow(row pgx.Row) (optin.Window, error) {
	var (
		w                      optin.Window
		choiceA, choiceB, outc string
		resolvedAt             *time.Time
	)
	if err := row.Scan(&w.SessionID, &w.Users[0], &w.Users[1], &choiceA, &choiceB, &w.Deadline, &outc, &w.MatchID, &resolvedAt); err != nil {
		return optin.Window{}, err
	}
	w.Choices = [2]optin.Choice{optin.Choice(choiceA), optin.Choice(choiceB)}
	w.Outcome = optin.Outcome(outc)
	w.Deadline = w.Deadline.UTC()
	if resolvedAt != nil {
		w.ResolvedAt = resolvedAt.UTC()
	}
	return w, nil
}

// Open implements optin.Store.
func (s *OptinStore) Open(ctx context.Context, w optin.Window) (optin.Window, bool, error) {
	if !uuid.Valid(w.SessionID) {
		return optin.Window{}, false, fmt.Errorf("postgres: session id %q is not a UUID", w.SessionID)
	}
	got, err := scanWindow(s.pool.QueryRow(ctx, `INSERT INTO choice_windows (session_id, user_a, user_b, deadline)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (session_id) DO NOTHING
		RETURNING `+windowColumns, w.SessionID, w.Users[0], w.Users[1], w.Deadline))
	switch {
	case err == nil:
		return got, true, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return optin.Window{}, false, wrapUnavailable(fmt.Errorf("postgres: open choice window: %w", err))
	}
	got, err = s.Get(ctx, w.SessionID)
	return got, false, err
}

// Get implements optin.Store.
func (s *OptinStore) Get(ctx context.Context, sessionID string) (optin.Window, error) {
	if !uuid.Valid(sessionID) {
		return optin.Window{}, optin.ErrWindowNotFound
	}
	w, err := scanWindow(s.pool.QueryRow(ctx, `SELECT `+windowColumns+` FROM choice_windows WHERE session_id = $1`, sessionID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return optin.Window{}, optin.ErrWindowNotFound
	case err != nil:
		return optin.Window{}, wrapUnavailable(fmt.Errorf("postgres: read choice window: %w", err))
	}
	return w, nil
}

// change runs f on the window of sessionID, locked for the transaction, and
// writes the window f returns when f reports a resolution or a new choice.
func (s *OptinStore) change(ctx context.Context, sessionID string, f func(tx pgx.Tx, w *optin.Window) (write, resolved bool, err error)) (optin.Window, bool, error) {
	if !uuid.Valid(sessionID) {
		return optin.Window{}, false, optin.ErrWindowNotFound
	}
	var (
		out      optin.Window
		resolved bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		w, err := scanWindow(tx.QueryRow(ctx, `SELECT `+windowColumns+` FROM choice_windows WHERE session_id = $1 FOR UPDATE`, sessionID))
		if errors.Is(err, pgx.ErrNoRows) {
			return optin.ErrWindowNotFound
		}
		if err != nil {
			return fmt.Errorf("postgres: lock choice window: %w", err)
		}
		write, res, err := f(tx, &w)
		if err != nil {
			return err
		}
		if write {
			if _, err := tx.Exec(ctx, `UPDATE choice_windows
				SET choice_a = nullif($2, ''), choice_b = nullif($3, ''), outcome = nullif($4, ''),
					match_id = nullif($5, '')::uuid, resolved_at = $6
				WHERE session_id = $1`,
				sessionID, string(w.Choices[0]), string(w.Choices[1]), string(w.Outcome), w.MatchID, nullTime(w.ResolvedAt)); err != nil {
				return fmt.Errorf("postgres: write choice window: %w", err)
			}
		}
		out, resolved = w, res
		return nil
	})
	if err != nil {
		return optin.Window{}, false, wrapUnavailable(err)
	}
	return out, resolved, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// resolve sets w's outcome at now; a mutual one inserts the pair's match
// with id matchID, or takes the one the pair has.
func resolve(ctx context.Context, tx pgx.Tx, w *optin.Window, outcome optin.Outcome, matchID string, now time.Time) error {
	w.Outcome, w.ResolvedAt = outcome, now.UTC().Truncate(time.Microsecond)
	if outcome != optin.Mutual {
		return nil
	}
	lo, hi := w.Users[0], w.Users[1]
	if hi < lo {
		lo, hi = hi, lo
	}
	// DO UPDATE (a no-op) rather than DO NOTHING, so that RETURNING gives
	// the existing row's id.
	// The conflict is with the pair's live match (the partial unique index
	// of migration 006): a removed one is never taken again.
	err := tx.QueryRow(ctx, `INSERT INTO matches (id, user_lo, user_hi, session_id, created_at, last_activity)
		VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (user_lo, user_hi) WHERE removed_at IS NULL DO UPDATE SET user_lo = matches.user_lo
		RETURNING id::text`, matchID, lo, hi, w.SessionID, now).Scan(&w.MatchID)
	if err != nil {
		return fmt.Errorf("postgres: insert match: %w", err)
	}
	return nil
}

// Choose implements optin.Store.
func (s *OptinStore) Choose(ctx context.Context, r optin.ChoiceRequest) (optin.Window, bool, error) {
	return s.change(ctx, r.SessionID, func(tx pgx.Tx, w *optin.Window) (bool, bool, error) {
		i := -1
		for j, u := range w.Users {
			if u == r.UserID {
				i = j
			}
		}
		switch {
		case i < 0:
			return false, false, optin.ErrNotAParticipant
		case w.Choices[i] != "" && w.Choices[i] != r.Choice:
			return false, false, optin.ErrChoiceAlreadyMade
		case w.Resolved() || w.Choices[i] == r.Choice:
			return false, false, nil
		case !r.Now.Before(w.Deadline):
			return true, true, resolve(ctx, tx, w, optin.NonMutual, "", r.Now)
		}
		w.Choices[i] = r.Choice
		switch {
		case w.Choices[1-i] == "":
			return true, false, nil
		case w.Choices == [2]optin.Choice{optin.ChoiceMatch, optin.ChoiceMatch}:
			if !uuid.Valid(r.MatchID) {
				return false, false, fmt.Errorf("postgres: match id %q is not a UUID", r.MatchID)
			}
			return true, true, resolve(ctx, tx, w, optin.Mutual, r.MatchID, r.Now)
		default:
			return true, true, resolve(ctx, tx, w, optin.NonMutual, "", r.Now)
		}
	})
}

// Expire implements optin.Store.
func (s *OptinStore) Expire(ctx context.Context, sessionID string, now time.Time) (optin.Window, bool, error) {
	return s.change(ctx, sessionID, func(tx pgx.Tx, w *optin.Window) (bool, bool, error) {
		if w.Resolved() {
			return false, false, nil
		}
		// Unresolved means at most one MATCH: the missing choices as PASS
		// make the outcome non-mutual.
		return true, true, resolve(ctx, tx, w, optin.NonMutual, "", now)
	})
}

// OpenFor implements optin.Store.
func (s *OptinStore) OpenFor(ctx context.Context, userID string, now time.Time) (optin.Window, bool, error) {
	w, err := scanWindow(s.pool.QueryRow(ctx, `SELECT `+windowColumns+` FROM choice_windows
		WHERE outcome IS NULL AND (user_a = $1 OR user_b = $1) AND deadline > $2
		ORDER BY deadline DESC LIMIT 1`, userID, now))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return optin.Window{}, false, nil
	case err != nil:
		return optin.Window{}, false, wrapUnavailable(fmt.Errorf("postgres: read open choice window: %w", err))
	}
	return w, true, nil
}

// Match implements optin.Store.
func (s *OptinStore) Match(ctx context.Context, id string) (optin.Match, error) {
	if !uuid.Valid(id) {
		return optin.Match{}, optin.ErrMatchNotFound
	}
	var m optin.Match
	err := s.pool.QueryRow(ctx, `SELECT id::text, user_lo, user_hi, session_id::text, created_at FROM matches WHERE id = $1 AND removed_at IS NULL`, id).
		Scan(&m.ID, &m.Users[0], &m.Users[1], &m.SessionID, &m.CreatedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return optin.Match{}, optin.ErrMatchNotFound
	case err != nil:
		return optin.Match{}, wrapUnavailable(fmt.Errorf("postgres: read match: %w", err))
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}
