package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/session"
)

var _ session.Store = (*SessionStore)(nil)

// SessionStore is a session.Store kept in Postgres (the sessions table of
// migration 005_dating), shared by every instance that uses the same
// database and schema. Create one with NewSessionStore after Migrate; it
// is safe for concurrent use.
//
// Create is one INSERT ... ON CONFLICT DO NOTHING, so of concurrent
// creates of one id exactly one inserts; End is one UPDATE of a row whose
// ended_at is NULL, so exactly one End ends a session. Times are kept to
// the microsecond and returned in UTC.
//
// Session ids must be UUIDs (session.Service makes sure of it); an id that
// is not one is not found.
type SessionStore struct {
	pool *pgxpool.Pool
}

// NewSessionStore returns a SessionStore that runs its queries on pool, in
// the pool's current schema.
func NewSessionStore(pool *pgxpool.Pool) *SessionStore {
	return &SessionStore{pool: pool}
}

// sessionColumns are the columns scanned by scanSession.
const sessionColumns = `id::text, queue_key, region,
	user_a, debit_key_a, rtc_uid_a, rtm_user_a, user_b, debit_key_b, rtc_uid_b, rtm_user_b,
	created_at, start_at, end_at, ended_at, coalesce(end_reason, '')`

func scanSession(row pgx.Row) (session.Session, error) {
	var (
		s          session.Session
		uidA, uidB int64
		endedAt    *time.Time
		reason     string
	)
	a, b := &s.Participants[0], &s.Participants[1]
	err := row.Scan(&s.ID, &s.QueueKey, &s.Region,
		&a.UserID, &a.DebitKey, &uidA, &a.RTMUserID, &b.UserID, &b.DebitKey, &uidB, &b.RTMUserID,
		&s.CreatedAt, &s.StartAt, &s.EndAt, &endedAt, &reason)
	if err != nil {
		return session.Session{}, err
	}
	a.RTCUID, b.RTCUID = uint32(uidA), uint32(uidB)
	s.CreatedAt, s.StartAt, s.EndAt = s.CreatedAt.UTC(), s.StartAt.UTC(), s.EndAt.UTC()
	if endedAt != nil {
		s.EndedAt = endedAt.UTC()
	}
	s.EndReason = session.EndReason(reason)
	return s, nil
}

// Create implements session.Store.
func (st *SessionStore) Create(ctx context.Context, s session.Session) (session.Session, bool, error) {
	if !uuid.Valid(s.ID) {
		return session.Session{}, false, fmt.Errorf("postgres: session id %q is not a UUID", s.ID)
	}
	a, b := s.Participants[0], s.Participants[1]
	var endedAt *time.Time
	var reason *string
	if !s.EndedAt.IsZero() {
		endedAt, reason = &s.EndedAt, (*string)(&s.EndReason)
	}
	got, err := scanSession(st.pool.QueryRow(ctx, `INSERT INTO sessions (id, queue_key, region,
			user_a, debit_key_a, rtc_uid_a, rtm_user_a, user_b, debit_key_b, rtc_uid_b, rtm_user_b,
			created_at, start_at, end_at, ended_at, end_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (id) DO NOTHING
		RETURNING `+sessionColumns,
		s.ID, s.QueueKey, s.Region,
		a.UserID, a.DebitKey, int64(a.RTCUID), a.RTMUserID, b.UserID, b.DebitKey, int64(b.RTCUID), b.RTMUserID,
		s.CreatedAt, s.StartAt, s.EndAt, endedAt, reason))
	switch {
	case err == nil:
		return got, true, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return session.Session{}, false, wrapUnavailable(fmt.Errorf("postgres: create session: %w", err))
	}
	got, err = st.Get(ctx, s.ID)
	return got, false, err
}

// Get implements session.Store.
func (st *SessionStore) Get(ctx context.Context, id string) (session.Session, error) {
	if !uuid.Valid(id) {
		return session.Session{}, session.ErrSessionNotFound
	}
	s, err := scanSession(st.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return session.Session{}, session.ErrSessionNotFound
	case err != nil:
		return session.Session{}, wrapUnavailable(fmt.Errorf("postgres: read session: %w", err))
	}
	return s, nil
}

// End implements session.Store.
func (st *SessionStore) End(ctx context.Context, id string, reason session.EndReason, at time.Time) (session.Session, bool, error) {
	if !uuid.Valid(id) {
		return session.Session{}, false, session.ErrSessionNotFound
	}
	s, err := scanSession(st.pool.QueryRow(ctx, `UPDATE sessions SET ended_at = $2, end_reason = $3
		WHERE id = $1 AND ended_at IS NULL
		RETURNING `+sessionColumns, id, at, string(reason)))
	switch {
	case err == nil:
		return s, true, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return session.Session{}, false, wrapUnavailable(fmt.Errorf("postgres: end session: %w", err))
	}
	s, err = st.Get(ctx, id)
	return s, false, err
}

// Live implements session.Store.
func (st *SessionStore) Live(ctx context.Context, userID string) (session.Session, bool, error) {
	s, err := scanSession(st.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions
		WHERE ended_at IS NULL AND (user_a = $1 OR user_b = $1)
		ORDER BY created_at DESC, id DESC LIMIT 1`, userID))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return session.Session{}, false, nil
	case err != nil:
		return session.Session{}, false, wrapUnavailable(fmt.Errorf("postgres: read live session: %w", err))
	}
	return s, true, nil
}
