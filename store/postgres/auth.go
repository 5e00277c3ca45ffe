package postgres

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

var _ auth.Store = (*AuthStore)(nil)

// AuthStore is an auth.Store kept in Postgres (the tables of migration
// 001_auth), shared by every instance that uses the same database and
// schema. Each method is one statement or one transaction; the rotation of
// a refresh token locks the token's family and the token with SELECT … FOR
// UPDATE, so concurrent rotations of one token have a single winner.
// Create one with NewAuthStore after Migrate; it is safe for concurrent
// use.
//
// User ids must be UUIDs (auth.Service makes them so); an id that is not
// one is an unknown user.
type AuthStore struct {
	pool *pgxpool.Pool
}

// NewAuthStore returns an AuthStore that runs its queries on pool, in the
// pool's current schema.
func NewAuthStore(pool *pgxpool.Pool) *AuthStore {
	return &AuthStore{pool: pool}
}

// Ping checks that Postgres answers.
func (s *AuthStore) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return wrapUnavailable(fmt.Errorf("postgres: ping: %w", err))
	}
	return nil
}

// selectUser reads the columns scanned by scanUser; the users table is u.
const selectUser = `SELECT u.id::text, u.display_name, u.bio, coalesce(u.age, 0), coalesce(u.gender, ''),
	u.interests, u.photo_urls, u.created_at, u.updated_at,
	coalesce((SELECT i.identifier FROM identities i WHERE i.user_id = u.id AND i.channel = 'phone'), ''),
	coalesce((SELECT i.identifier FROM identities i WHERE i.user_id = u.id AND i.channel = 'email'), '')`

func scanUser(row pgx.Row) (auth.User, error) {
	var u auth.User
	err := row.Scan(&u.ID, &u.DisplayName, &u.Bio, &u.Age, &u.Gender,
		&u.Interests, &u.PhotoURLs, &u.CreatedAt, &u.UpdatedAt, &u.Phone, &u.Email)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, auth.ErrUserNotFound
	}
	if err != nil {
		return auth.User{}, wrapUnavailable(fmt.Errorf("postgres: read user: %w", err))
	}
	u.CreatedAt = u.CreatedAt.UTC()
	u.UpdatedAt = u.UpdatedAt.UTC()
	if u.Interests == nil {
		u.Interests = []string{}
	}
	if u.PhotoURLs == nil {
		u.PhotoURLs = []string{}
	}
	return u, nil
}

// CreateUser implements auth.Store.
func (s *AuthStore) CreateUser(ctx context.Context, u auth.User, first auth.RefreshToken) error {
	if first.UserID != u.ID {
		return errors.New("postgres: the first refresh token must belong to the new user")
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var age, gender any
		if u.Age != 0 {
			age = u.Age
		}
		if u.Gender != "" {
			gender = u.Gender
		}
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO users (id, display_name, bio, age, gender, interests, photo_urls, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			u.ID, u.DisplayName, u.Bio, age, gender, nonNil(u.Interests), nonNil(u.PhotoURLs), u.CreatedAt, u.UpdatedAt)
		queueFamily(b, first)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return wrapUnavailable(fmt.Errorf("postgres: create user: %w", err))
		}
		return nil
	})
}

// User implements auth.Store.
func (s *AuthStore) User(ctx context.Context, id string) (auth.User, error) {
	if !uuid.Valid(id) {
		return auth.User{}, auth.ErrUserNotFound
	}
	return scanUser(s.pool.QueryRow(ctx, selectUser+` FROM users u WHERE u.id = $1`, id))
}

// UserByIdentity implements auth.Store.
func (s *AuthStore) UserByIdentity(ctx context.Context, ch auth.Channel, identifier string) (auth.User, error) {
	return scanUser(s.pool.QueryRow(ctx, selectUser+` FROM identities x JOIN users u ON u.id = x.user_id
		WHERE x.channel = $1 AND x.identifier = $2`, string(ch), identifier))
}

// UpdateProfile implements auth.Store.
func (s *AuthStore) UpdateProfile(ctx context.Context, id string, p auth.ProfilePatch, now time.Time) (auth.User, error) {
	if !uuid.Valid(id) {
		return auth.User{}, auth.ErrUserNotFound
	}
	var interests, photos any
	if p.Interests != nil {
		interests = nonNil(*p.Interests)
	}
	if p.PhotoURLs != nil {
		photos = nonNil(*p.PhotoURLs)
	}
	return scanUser(s.pool.QueryRow(ctx, `WITH u AS (
			UPDATE users SET
				display_name = coalesce($2, display_name),
				bio = coalesce($3, bio),
				age = coalesce($4, age),
				gender = coalesce($5, gender),
				interests = coalesce($6, interests),
				photo_urls = coalesce($7, photo_urls),
				updated_at = $8
			WHERE id = $1
			RETURNING *
		) `+selectUser+` FROM u`,
		id, p.DisplayName, p.Bio, p.Age, p.Gender, interests, photos, now))
}

// LinkIdentity implements auth.Store.
func (s *AuthStore) LinkIdentity(ctx context.Context, id string, ch auth.Channel, identifier string, now time.Time) (auth.User, error) {
	if !uuid.Valid(id) {
		return auth.User{}, auth.ErrUserNotFound
	}
	var u auth.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Locking the user serialises the links of one user.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return auth.ErrUserNotFound
		}
		if err != nil {
			return wrapUnavailable(fmt.Errorf("postgres: link identity: %w", err))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM identities WHERE user_id = $1 AND channel = $2 AND identifier <> $3`,
			id, string(ch), identifier); err != nil {
			return wrapUnavailable(fmt.Errorf("postgres: link identity: %w", err))
		}
		// Another user's row makes the conflict clause update nothing.
		err = tx.QueryRow(ctx, `INSERT INTO identities (channel, identifier, user_id, verified_at)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (channel, identifier) DO UPDATE SET verified_at = EXCLUDED.verified_at
				WHERE identities.user_id = EXCLUDED.user_id
			RETURNING 1`, string(ch), identifier, id, now).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return auth.ErrIdentityTaken
		}
		if err != nil {
			return wrapUnavailable(fmt.Errorf("postgres: link identity: %w", err))
		}
		u, err = scanUser(tx.QueryRow(ctx, `WITH u AS (UPDATE users SET updated_at = $2 WHERE id = $1 RETURNING *) `+
			selectUser+` FROM u`, id, now))
		return err
	})
	return u, err
}

// DeleteUser implements auth.Store.
func (s *AuthStore) DeleteUser(ctx context.Context, id string) error {
	if !uuid.Valid(id) {
		return auth.ErrUserNotFound
	}
	// The user's families, tokens and identities go by ON DELETE CASCADE.
	var n int
	err := s.pool.QueryRow(ctx, `WITH
			login_codes AS (
				DELETE FROM verification_codes c USING identities i
				WHERE i.user_id = $1 AND c.purpose = 'login' AND c.user_id = ''
					AND c.channel = i.channel AND c.identifier = i.identifier
			),
			verify_codes AS (DELETE FROM verification_codes WHERE user_id = $2),
			deleted AS (DELETE FROM users WHERE id = $1 RETURNING 1)
		SELECT count(*) FROM deleted`, id, id).Scan(&n)
	if err != nil {
		return wrapUnavailable(fmt.Errorf("postgres: delete user: %w", err))
	}
	if n == 0 {
		return auth.ErrUserNotFound
	}
	return nil
}

// CreateRefreshToken implements auth.Store.
func (s *AuthStore) CreateRefreshToken(ctx context.Context, t auth.RefreshToken) error {
	if !uuid.Valid(t.UserID) {
		return auth.ErrUserNotFound
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		queueFamily(b, t)
		err := tx.SendBatch(ctx, b).Close()
		if pgErrorCode(err) == "23503" { // foreign_key_violation: no such user
			return auth.ErrUserNotFound
		}
		if err != nil {
			return wrapUnavailable(fmt.Errorf("postgres: create refresh token: %w", err))
		}
		return nil
	})
}

// queueFamily queues the inserts of a new family whose first token is t.
func queueFamily(b *pgx.Batch, t auth.RefreshToken) {
	b.Queue(`INSERT INTO refresh_families (id, user_id, created_at) VALUES ($1, $2, $3)`, t.FamilyID, t.UserID, t.IssuedAt)
	b.Queue(`INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)`,
		t.Hash, t.FamilyID, t.IssuedAt, t.ExpiresAt)
}

// RotateRefreshToken implements auth.Store. It runs one transaction:
//
//  1. lock the presented token's family (SELECT … FOR UPDATE), which
//     serialises every rotation within the family;
//  2. then, in a statement whose snapshot is taken after the lock is held,
//     read and lock the presented token and see whether its successor has
//     been rotated;
//  3. rotate, or issue a sibling within the grace window, or revoke the
//     family on reuse, and commit, even on reuse, whose revocation must
//     stand although the call fails.
func (s *AuthStore) RotateRefreshToken(ctx context.Context, r auth.Rotation) (auth.RefreshToken, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return auth.RefreshToken{}, wrapUnavailable(fmt.Errorf("postgres: rotate refresh token: %w", err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	var (
		familyID, userID    string
		revoked             bool
		issuedAt, expiresAt time.Time
		rotatedAt           *time.Time
		successorRotated    bool
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT f.id::text, f.user_id::text, f.revoked_at IS NOT NULL FROM refresh_families f
		WHERE f.id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
		FOR UPDATE`, r.Presented)
	b.Queue(`SELECT t.issued_at, t.expires_at, t.rotated_at, coalesce(n.rotated_at IS NOT NULL, false)
		FROM refresh_tokens t LEFT JOIN refresh_tokens n ON n.token_hash = t.replaced_by
		WHERE t.token_hash = $1
		FOR UPDATE OF t`, r.Presented)
	br := tx.SendBatch(ctx, b)
	errFamily := br.QueryRow().Scan(&familyID, &userID, &revoked)
	errToken := br.QueryRow().Scan(&issuedAt, &expiresAt, &rotatedAt, &successorRotated)
	if err := br.Close(); err != nil {
		return auth.RefreshToken{}, wrapUnavailable(fmt.Errorf("postgres: rotate refresh token: %w", err))
	}
	switch {
	case errors.Is(errFamily, pgx.ErrNoRows) || errors.Is(errToken, pgx.ErrNoRows):
		return auth.RefreshToken{}, auth.ErrRefreshInvalid
	case errFamily != nil:
		return auth.RefreshToken{}, fmt.Errorf("postgres: rotate refresh token: %w", errFamily)
	case errToken != nil:
		return auth.RefreshToken{}, fmt.Errorf("postgres: rotate refresh token: %w", errToken)
	case !r.Now.Before(expiresAt):
		return auth.RefreshToken{}, auth.ErrRefreshExpired
	}

	next := auth.RefreshToken{
		Hash:      slices.Clone(r.Next),
		UserID:    userID,
		FamilyID:  familyID,
		IssuedAt:  r.Now,
		ExpiresAt: r.ExpiresAt,
	}
	switch {
	case rotatedAt != nil && r.Grace > 0 && !revoked && r.Now.Sub(*rotatedAt) <= r.Grace && !successorRotated:
		// Within the grace window: a sibling of the successor.
		_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)`,
			r.Next, familyID, r.Now, r.ExpiresAt)
	case rotatedAt != nil:
		// Reuse: revoke the family and commit that.
		if _, err := tx.Exec(ctx, `UPDATE refresh_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`,
			familyID, r.Now); err != nil {
			return auth.RefreshToken{}, wrapUnavailable(fmt.Errorf("postgres: revoke reused refresh family: %w", err))
		}
		if err := tx.Commit(ctx); err != nil {
			return auth.RefreshToken{}, wrapUnavailable(fmt.Errorf("postgres: revoke reused refresh family: %w", err))
		}
		return auth.RefreshToken{
			Hash:      slices.Clone(r.Presented),
			UserID:    userID,
			FamilyID:  familyID,
			IssuedAt:  issuedAt.UTC(),
			ExpiresAt: expiresAt.UTC(),
		}, auth.ErrRefreshReused
	case revoked:
		return auth.RefreshToken{}, auth.ErrTokenRevoked
	default:
		_, err = tx.Exec(ctx, `WITH consumed AS (
				UPDATE refresh_tokens SET rotated_at = $2, replaced_by = $3 WHERE token_hash = $1
			)
			INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($3, $4, $2, $5)`,
			r.Presented, r.Now, r.Next, familyID, r.ExpiresAt)
	}
	if err != nil {
		return auth.RefreshToken{}, wrapUnavailable(fmt.Errorf("postgres: rotate refresh token: %w", err))
	}
	if err := tx.Commit(ctx); err != nil {
		return auth.RefreshToken{}, wrapUnavailable(fmt.Errorf("postgres: rotate refresh token: %w", err))
	}
	return next, nil
}

// RevokeTokenFamily implements auth.Store.
func (s *AuthStore) RevokeTokenFamily(ctx context.Context, tokenHash []byte, now time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE refresh_families SET revoked_at = $2
		WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`, tokenHash, now)
	if err != nil {
		return wrapUnavailable(fmt.Errorf("postgres: revoke refresh family: %w", err))
	}
	return nil
}

// RevokeUserFamilies implements auth.Store.
func (s *AuthStore) RevokeUserFamilies(ctx context.Context, userID string, now time.Time) error {
	if !uuid.Valid(userID) {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE refresh_families SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, userID, now)
	if err != nil {
		return wrapUnavailable(fmt.Errorf("postgres: revoke refresh families: %w", err))
	}
	return nil
}

// PutCode implements auth.Store.
func (s *AuthStore) PutCode(ctx context.Context, c auth.VerificationCode) error {
	if len(c.Hash) == 0 {
		return errors.New("postgres: the code's hash is required")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO verification_codes
			(purpose, channel, identifier, user_id, code_hash, attempts, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, 0, $6, $7)
		ON CONFLICT (purpose, channel, identifier, user_id) DO UPDATE SET
			code_hash = EXCLUDED.code_hash, attempts = 0, requester_attempts = '{}',
			created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
		string(c.Key.Purpose), string(c.Key.Channel), c.Key.Identifier, c.Key.UserID, c.Hash, c.CreatedAt, c.ExpiresAt)
	if err != nil {
		return wrapUnavailable(fmt.Errorf("postgres: store code: %w", err))
	}
	return nil
}

// CheckCode implements auth.Store in one transaction that locks the code.
// The per-requester counts live in the code's requester_attempts (jsonb),
// which holds at most MaxTotalAttempts keys since every key counts at
// least one wrong attempt.
func (s *AuthStore) CheckCode(ctx context.Context, c auth.CodeCheck) error {
	var result error
	key := c.Key
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			stored    []byte
			attempts  int
			mine      int
			expiresAt time.Time
		)
		args := []any{string(key.Purpose), string(key.Channel), key.Identifier, key.UserID}
		const where = ` WHERE purpose = $1 AND channel = $2 AND identifier = $3 AND user_id = $4`
		err := tx.QueryRow(ctx, `SELECT code_hash, attempts, coalesce((requester_attempts ->> $5::text)::integer, 0), expires_at
			FROM verification_codes`+where+` FOR UPDATE`, append(args, c.Requester)...).
			Scan(&stored, &attempts, &mine, &expiresAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			result = auth.ErrCodeInvalid
			return nil
		case err != nil:
			return err
		case !c.Now.Before(expiresAt):
			result = auth.ErrCodeExpired
			return nil
		case attempts >= c.MaxTotalAttempts || mine >= c.MaxAttempts:
			result = auth.ErrCodeExhausted
			return nil
		case subtle.ConstantTimeCompare(stored, c.Hash) != 1:
			result = auth.ErrCodeInvalid
			_, err = tx.Exec(ctx, `UPDATE verification_codes SET attempts = attempts + 1,
				requester_attempts = jsonb_set(requester_attempts, ARRAY[$5::text], to_jsonb($6::integer))`+where,
				append(args, c.Requester, mine+1)...)
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM verification_codes`+where, args...)
		return err
	})
	if err != nil {
		return wrapUnavailable(fmt.Errorf("postgres: check code: %w", err))
	}
	return result
}

// DeleteExpired implements auth.Store. Each statement commits on its own,
// and families go before their tokens, the order in which a rotation
// locks them.
func (s *AuthStore) DeleteExpired(ctx context.Context, now time.Time) error {
	for _, q := range []string{
		`DELETE FROM verification_codes WHERE expires_at <= $1`,
		`DELETE FROM refresh_families f
			WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id AND t.expires_at > $1)`,
		`DELETE FROM refresh_tokens WHERE expires_at <= $1`,
	} {
		if _, err := s.pool.Exec(ctx, q, now); err != nil {
			return wrapUnavailable(fmt.Errorf("postgres: delete expired: %w", err))
		}
	}
	return nil
}

// pgErrorCode returns the SQLSTATE of err, or "".
func pgErrorCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// inTx runs f in a transaction; a failure to reach PostgreSQL (at begin,
// inside f, or at commit) is reported as STORE_UNAVAILABLE.
func (s *AuthStore) inTx(ctx context.Context, f func(pgx.Tx) error) error {
	return wrapUnavailable(pgx.BeginFunc(ctx, s.pool, f))
}
