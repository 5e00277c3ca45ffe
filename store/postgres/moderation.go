package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/moderation"
)

var _ moderation.EventStore = (*ModerationEventStore)(nil)

// ModerationEventStore is a moderation.EventStore kept in Postgres (the
// moderation_events table of migration 007_moderation), shared by every
// instance that uses the same database and schema. Create one with
// NewModerationEventStore after Migrate; it is safe for concurrent use.
//
// Record inserts ON CONFLICT (delivery_key, user_id) DO NOTHING, so one
// delivery logs one event per offender however many instances record it
// at once. ReceivedAt is kept to the microsecond and returned in UTC.
// Event ids must be UUIDs (the service makes them).
type ModerationEventStore struct {
	pool *pgxpool.Pool
}

// NewModerationEventStore returns a ModerationEventStore that runs its
// queries on pool, in the pool's current schema.
func NewModerationEventStore(pool *pgxpool.Pool) *ModerationEventStore {
	return &ModerationEventStore{pool: pool}
}

const modEventColumns = `id::text, user_id, session_id, reason, labels, severity, delivery_key, received_at`

func scanModEvent(row pgx.Row) (moderation.Event, error) {
	var e moderation.Event
	if err := row.Scan(&e.ID, &e.UserID, &e.SessionID, &e.Reason, &e.Labels, &e.Severity, &e.DeliveryKey, &e.ReceivedAt); err != nil {
		return moderation.Event{}, err
	}
	if e.Labels == nil {
		e.Labels = []string{}
	}
	e.ReceivedAt = e.ReceivedAt.UTC()
	return e, nil
}

// Record implements moderation.EventStore.
func (s *ModerationEventStore) Record(ctx context.Context, e moderation.Event) (moderation.Event, bool, error) {
	if !uuid.Valid(e.ID) {
		return moderation.Event{}, false, fmt.Errorf("postgres: moderation event id %q is not a UUID", e.ID)
	}
	if e.UserID == "" || e.DeliveryKey == "" {
		return moderation.Event{}, false, errors.New("postgres: a moderation event needs a user and a delivery key")
	}
	labels := e.Labels
	if labels == nil {
		labels = []string{}
	}
	got, err := scanModEvent(s.pool.QueryRow(ctx, `INSERT INTO moderation_events
		(id, user_id, session_id, reason, labels, severity, delivery_key, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (delivery_key, user_id) DO NOTHING
		RETURNING `+modEventColumns,
		e.ID, e.UserID, e.SessionID, e.Reason, labels, e.Severity, e.DeliveryKey, e.ReceivedAt))
	switch {
	case err == nil:
		return got, true, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return moderation.Event{}, false, wrapUnavailable(fmt.Errorf("postgres: record moderation event: %w", err))
	}
	// The row that won is committed: ON CONFLICT DO NOTHING waited for it.
	got, err = scanModEvent(s.pool.QueryRow(ctx, `SELECT `+modEventColumns+` FROM moderation_events
		WHERE delivery_key = $1 AND user_id = $2`, e.DeliveryKey, e.UserID))
	if err != nil {
		return moderation.Event{}, false, wrapUnavailable(fmt.Errorf("postgres: read moderation event: %w", err))
	}
	return got, false, nil
}

// CountSince implements moderation.EventStore.
func (s *ModerationEventStore) CountSince(ctx context.Context, userID string, since time.Time) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM moderation_events WHERE user_id = $1 AND received_at >= $2`,
		userID, since).Scan(&n); err != nil {
		return 0, wrapUnavailable(fmt.Errorf("postgres: count moderation events: %w", err))
	}
	return n, nil
}

// List implements moderation.EventStore: newest ReceivedAt first (ties in
// id order). A limit of zero or less returns nothing.
func (s *ModerationEventStore) List(ctx context.Context, userID string, limit int) ([]moderation.Event, error) {
	if limit <= 0 {
		return []moderation.Event{}, nil
	}
	var (
		rows pgx.Rows
		err  error
	)
	if userID == "" {
		rows, err = s.pool.Query(ctx, `SELECT `+modEventColumns+` FROM moderation_events
			ORDER BY received_at DESC, id LIMIT $1`, limit)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+modEventColumns+` FROM moderation_events
			WHERE user_id = $1 ORDER BY received_at DESC, id LIMIT $2`, userID, limit)
	}
	if err != nil {
		return nil, wrapUnavailable(fmt.Errorf("postgres: list moderation events: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (moderation.Event, error) { return scanModEvent(r) })
	if err != nil {
		return nil, wrapUnavailable(fmt.Errorf("postgres: list moderation events: %w", err))
	}
	if out == nil {
		out = []moderation.Event{}
	}
	return out, nil
}
