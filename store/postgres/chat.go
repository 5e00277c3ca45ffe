package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

var _ chat.Store = (*ChatStore)(nil)

// ChatStore is a chat.Store kept in Postgres: the matches table the optin
// feature fills (migration 005_dating, made removable by 006_chat) and the
// messages table of 006_chat. Create one with NewChatStore after Migrate;
// it is safe for concurrent use and shared by every instance on the same
// database and schema.
//
// Send runs in one transaction that locks the match's row (SELECT ... FOR
// UPDATE), checks the sender and their clientMessageId, increments the
// match's message_count for the Seq and moves last_activity: Seqs of a
// match are 1, 2, … without gaps or repeats whatever the concurrency, and
// a message's CreatedAt is never before its predecessor's. Unmatch sets
// removed_at under the same lock. Times are kept to the microsecond and
// returned in UTC.
//
// Match ids and message ids must be UUIDs (the services make sure of it);
// a match id that is not one is not found.
type ChatStore struct {
	pool *pgxpool.Pool
}

// NewChatStore returns a ChatStore that runs its queries on pool, in the
// pool's current schema.
func NewChatStore(pool *pgxpool.Pool) *ChatStore {
	return &ChatStore{pool: pool}
}

// matchColumns are the columns scanned by scanMatch, of matches m joined
// laterally with its last message l.
const matchColumns = `m.id::text, m.user_lo, m.user_hi, m.created_at, m.last_activity,
	l.id::text, l.sender_id, l.text, l.client_message_id, l.created_at, l.seq`

// lastMessage joins matches m with its last message l.
const lastMessage = ` LEFT JOIN LATERAL (
		SELECT id, sender_id, text, client_message_id, created_at, seq FROM messages
		WHERE match_id = m.id ORDER BY seq DESC LIMIT 1) l ON true`

// matchFrom is the FROM clause of matchColumns.
const matchFrom = `matches m` + lastMessage

func scanMatch(row pgx.Row) (chat.Match, error) {
	var (
		m                          chat.Match
		lastID, sender, text, cmid *string
		lastAt                     *time.Time
		seq                        *int64
	)
	if err := row.Scan(&m.ID, &m.Users[0], &m.Users[1], &m.CreatedAt, &m.LastActivity, &lastID, &sender, &text, &cmid, &lastAt, &seq); err != nil {
		return chat.Match{}, err
	}
	m.CreatedAt, m.LastActivity = m.CreatedAt.UTC(), m.LastActivity.UTC()
	if lastID != nil {
		m.LastMessage = &chat.Message{ID: *lastID, MatchID: m.ID, SenderID: *sender, Text: *text, CreatedAt: lastAt.UTC(), Seq: *seq}
		if cmid != nil {
			m.LastMessage.ClientMessageID = *cmid
		}
	}
	return m, nil
}

// messageColumns are the columns scanned by scanMessage.
const messageColumns = `id::text, match_id::text, sender_id, text, coalesce(client_message_id, ''), created_at, seq`

func scanMessage(row pgx.Row) (chat.Message, error) {
	var m chat.Message
	if err := row.Scan(&m.ID, &m.MatchID, &m.SenderID, &m.Text, &m.ClientMessageID, &m.CreatedAt, &m.Seq); err != nil {
		return chat.Message{}, err
	}
	m.CreatedAt = m.CreatedAt.UTC()
	return m, nil
}

// Matches implements chat.Store. Each side of the pair has its own partial
// index (user, last_activity DESC, id DESC): the two index scans are
// merged and cut to limit.
func (s *ChatStore) Matches(ctx context.Context, userID string, after *chat.MatchCursor, limit int) ([]chat.Match, error) {
	if limit <= 0 {
		return nil, nil
	}
	var (
		at  *time.Time
		aid *string
	)
	if after != nil {
		if !uuid.Valid(after.ID) {
			return nil, fmt.Errorf("postgres: match cursor id %q is not a UUID", after.ID)
		}
		t := after.LastActivity
		at, aid = &t, &after.ID
	}
	const side = `SELECT id, last_activity FROM matches
		WHERE %s = $1 AND removed_at IS NULL AND ($2::timestamptz IS NULL OR (last_activity, id) < ($2, $3::uuid))
		ORDER BY last_activity DESC, id DESC LIMIT $4`
	rows, err := s.pool.Query(ctx, `SELECT `+matchColumns+` FROM (
			(`+fmt.Sprintf(side, "user_lo")+`) UNION ALL (`+fmt.Sprintf(side, "user_hi")+`)
			ORDER BY last_activity DESC, id DESC LIMIT $4
		) p JOIN matches m ON m.id = p.id`+lastMessage+`
		ORDER BY m.last_activity DESC, m.id DESC`, userID, at, aid, limit)
	if err != nil {
		return nil, wrapUnavailable(fmt.Errorf("postgres: read matches: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (chat.Match, error) { return scanMatch(r) })
	if err != nil {
		return nil, wrapUnavailable(fmt.Errorf("postgres: read matches: %w", err))
	}
	return out, nil
}

// Match implements chat.Store.
func (s *ChatStore) Match(ctx context.Context, id string) (chat.Match, error) {
	if !uuid.Valid(id) {
		return chat.Match{}, chat.ErrMatchNotFound
	}
	m, err := scanMatch(s.pool.QueryRow(ctx, `SELECT `+matchColumns+` FROM `+matchFrom+` WHERE m.id = $1 AND m.removed_at IS NULL`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return chat.Match{}, chat.ErrMatchNotFound
	case err != nil:
		return chat.Match{}, wrapUnavailable(fmt.Errorf("postgres: read match: %w", err))
	}
	return m, nil
}

// lockMatch locks the live match id for the transaction and checks that
// userID is one of its users.
func lockMatch(ctx context.Context, tx pgx.Tx, id, userID string) error {
	var lo, hi string
	err := tx.QueryRow(ctx, `SELECT user_lo, user_hi FROM matches WHERE id = $1 AND removed_at IS NULL FOR UPDATE`, id).Scan(&lo, &hi)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return chat.ErrMatchNotFound
	case err != nil:
		return fmt.Errorf("postgres: lock match: %w", err)
	case userID != lo && userID != hi:
		return chat.ErrNotAParticipant
	}
	return nil
}

// Send implements chat.Store.
func (s *ChatStore) Send(ctx context.Context, nm chat.NewMessage) (chat.Message, bool, error) {
	if !uuid.Valid(nm.MatchID) {
		return chat.Message{}, false, chat.ErrMatchNotFound
	}
	if !uuid.Valid(nm.ID) {
		return chat.Message{}, false, fmt.Errorf("postgres: message id %q is not a UUID", nm.ID)
	}
	var (
		out     chat.Message
		created bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockMatch(ctx, tx, nm.MatchID, nm.SenderID); err != nil {
			return err
		}
		if nm.ClientMessageID != "" {
			m, err := scanMessage(tx.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages
				WHERE match_id = $1 AND sender_id = $2 AND client_message_id = $3`, nm.MatchID, nm.SenderID, nm.ClientMessageID))
			switch {
			case err == nil:
				out = m
				return nil
			case !errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("postgres: read message: %w", err)
			}
		}
		m, err := scanMessage(tx.QueryRow(ctx, `WITH up AS (
				UPDATE matches SET message_count = message_count + 1, last_activity = greatest(last_activity, $5)
				WHERE id = $2 RETURNING message_count, last_activity)
			INSERT INTO messages (id, match_id, seq, sender_id, text, client_message_id, created_at)
			SELECT $1, $2, up.message_count, $3, $4, nullif($6, ''), up.last_activity FROM up
			RETURNING `+messageColumns, nm.ID, nm.MatchID, nm.SenderID, nm.Text, nm.CreatedAt, nm.ClientMessageID))
		if err != nil {
			return fmt.Errorf("postgres: insert message: %w", err)
		}
		out, created = m, true
		return nil
	})
	if err != nil {
		return chat.Message{}, false, wrapUnavailable(err)
	}
	return out, created, nil
}

// Messages implements chat.Store.
func (s *ChatStore) Messages(ctx context.Context, matchID string, q chat.HistoryQuery) ([]chat.Message, error) {
	if !uuid.Valid(matchID) {
		return nil, chat.ErrMatchNotFound
	}
	var live bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM matches WHERE id = $1 AND removed_at IS NULL)`, matchID).Scan(&live); err != nil {
		return nil, wrapUnavailable(fmt.Errorf("postgres: read match: %w", err))
	}
	if !live {
		return nil, chat.ErrMatchNotFound
	}
	if q.Limit <= 0 {
		return nil, nil
	}
	var (
		rows pgx.Rows
		err  error
	)
	switch {
	case q.Before > 0:
		rows, err = s.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE match_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, matchID, q.Before, q.Limit)
	case q.After > 0:
		rows, err = s.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE match_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, matchID, q.After, q.Limit)
	default:
		rows, err = s.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages WHERE match_id = $1 ORDER BY seq DESC LIMIT $2`, matchID, q.Limit)
	}
	if err != nil {
		return nil, wrapUnavailable(fmt.Errorf("postgres: read messages: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (chat.Message, error) { return scanMessage(r) })
	if err != nil {
		return nil, wrapUnavailable(fmt.Errorf("postgres: read messages: %w", err))
	}
	if q.After <= 0 {
		slices.Reverse(out)
	}
	return out, nil
}

// Unmatch implements chat.Store.
func (s *ChatStore) Unmatch(ctx context.Context, id, userID string, at time.Time) (chat.Match, error) {
	if !uuid.Valid(id) {
		return chat.Match{}, chat.ErrMatchNotFound
	}
	var out chat.Match
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockMatch(ctx, tx, id, userID); err != nil {
			return err
		}
		m, err := scanMatch(tx.QueryRow(ctx, `SELECT `+matchColumns+` FROM `+matchFrom+` WHERE m.id = $1`, id))
		if err != nil {
			return fmt.Errorf("postgres: read match: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE matches SET removed_at = $2 WHERE id = $1`, id, at); err != nil {
			return fmt.Errorf("postgres: remove match: %w", err)
		}
		out = m
		return nil
	})
	if err != nil {
		return chat.Match{}, wrapUnavailable(err)
	}
	return out, nil
}
