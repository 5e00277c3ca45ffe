package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	rv "github.com/rendezvous-go/rendezvous"
)

var _ rv.JobStore = (*JobStore)(nil)

// JobStore is an rv.JobStore kept in Postgres (the table rendezvous_jobs
// of migration 003_scheduler), shared by every instance that uses the
// same database and schema. Create one with NewJobStore after Migrate; it
// is safe for concurrent use.
//
// Every method is one statement. A claim is one UPDATE of the rows that a
// sub-select picks with FOR UPDATE SKIP LOCKED, so concurrent claims never
// wait for each other nor take the same job; it sets a new random
// claim_token, and Complete, Retry and Extend only match the row while it
// still has that token. Times are kept to the microsecond.
//
// ScheduleTx and CancelTx write in the caller's transaction, so that a
// feature schedules or cancels a timer together with the state change
// that needs it (the session starts and its end is scheduled, or neither).
type JobStore struct {
	pool *pgxpool.Pool
}

// NewJobStore returns a JobStore that runs its statements on pool, in the
// pool's current schema.
func NewJobStore(pool *pgxpool.Pool) *JobStore {
	return &JobStore{pool: pool}
}

// jobDB is what the job statements run on: the pool or a transaction.
type jobDB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

const scheduleJob = `INSERT INTO rendezvous_jobs AS j (key, kind, due_at, payload) VALUES ($1, $2, $3, $4)
	ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, due_at = EXCLUDED.due_at, payload = EXCLUDED.payload,
		attempt = 0, claim_token = NULL, lease_until = NULL`

// claimJobs claims up to $3 jobs claimable at $1 until $2.
const claimJobs = `WITH due AS MATERIALIZED (
		SELECT key FROM rendezvous_jobs
		WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
		ORDER BY due_at LIMIT $3
		FOR UPDATE SKIP LOCKED
	)
	UPDATE rendezvous_jobs j SET attempt = j.attempt + 1, claim_token = gen_random_uuid()::text, lease_until = $2
	FROM due WHERE j.key = due.key
	RETURNING j.key, j.kind, j.due_at, j.payload, j.attempt, j.claim_token, j.lease_until`

// Schedule implements rv.JobStore.
func (s *JobStore) Schedule(ctx context.Context, job rv.Job) error {
	return schedule(ctx, s.pool, job)
}

// ScheduleTx is Schedule in the caller's transaction tx: the job exists
// once tx commits, and not if it rolls back. A Scheduler polling this
// store runs it within its poll interval of the commit or of its due time,
// whichever is later.
func (s *JobStore) ScheduleTx(ctx context.Context, tx pgx.Tx, job rv.Job) error {
	return schedule(ctx, tx, job)
}

func schedule(ctx context.Context, db jobDB, job rv.Job) error {
	if err := job.Validate(); err != nil {
		return err
	}
	payload := job.Payload
	if payload == nil {
		payload = []byte{}
	}
	_, err := db.Exec(ctx, scheduleJob, job.Key, job.Kind, job.Due, payload)
	return jobStoreError("schedule job", err)
}

// Cancel implements rv.JobStore.
func (s *JobStore) Cancel(ctx context.Context, key string) (bool, error) {
	return cancelJob(ctx, s.pool, key)
}

// CancelTx is Cancel in the caller's transaction tx.
func (s *JobStore) CancelTx(ctx context.Context, tx pgx.Tx, key string) (bool, error) {
	return cancelJob(ctx, tx, key)
}

func cancelJob(ctx context.Context, db jobDB, key string) (bool, error) {
	if err := rv.ValidateJobKey(key); err != nil {
		return false, err
	}
	tag, err := db.Exec(ctx, `DELETE FROM rendezvous_jobs WHERE key = $1`, key)
	if err != nil {
		return false, jobStoreError("cancel job", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Claim implements rv.JobStore.
func (s *JobStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]rv.Claim, error) {
	if lease <= 0 || limit <= 0 {
		return nil, rv.ErrInvalidJob.WithMessage("a claim needs a positive lease and limit")
	}
	rows, err := s.pool.Query(ctx, claimJobs, now, now.Add(lease), limit)
	if err != nil {
		return nil, jobStoreError("claim jobs", err)
	}
	claims, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (rv.Claim, error) {
		var c rv.Claim
		err := row.Scan(&c.Job.Key, &c.Job.Kind, &c.Job.Due, &c.Job.Payload, &c.Job.Attempt, &c.Token, &c.LeaseUntil)
		c.Job.Due = c.Job.Due.UTC()
		c.LeaseUntil = c.LeaseUntil.UTC()
		if len(c.Job.Payload) == 0 {
			c.Job.Payload = nil
		}
		return c, err
	})
	if err != nil {
		return nil, jobStoreError("claim jobs", err)
	}
	// RETURNING has no order: earliest due first, as claimed.
	slices.SortFunc(claims, func(a, b rv.Claim) int {
		if c := a.Job.Due.Compare(b.Job.Due); c != 0 {
			return c
		}
		return strings.Compare(a.Job.Key, b.Job.Key)
	})
	return claims, nil
}

// Complete implements rv.JobStore.
func (s *JobStore) Complete(ctx context.Context, c rv.Claim) error {
	return s.onClaim(ctx, "complete job", `DELETE FROM rendezvous_jobs WHERE key = $1 AND claim_token = $2`, c)
}

// Retry implements rv.JobStore.
func (s *JobStore) Retry(ctx context.Context, c rv.Claim, due time.Time) error {
	if due.IsZero() {
		return rv.ErrInvalidJob.WithMessage("a retry needs a due time")
	}
	return s.onClaim(ctx, "retry job", `UPDATE rendezvous_jobs SET due_at = $3, claim_token = NULL, lease_until = NULL
		WHERE key = $1 AND claim_token = $2`, c, due)
}

// Extend implements rv.JobStore.
func (s *JobStore) Extend(ctx context.Context, c rv.Claim, until time.Time) error {
	if until.IsZero() {
		return rv.ErrInvalidJob.WithMessage("an extension needs a lease end")
	}
	return s.onClaim(ctx, "extend job lease", `UPDATE rendezvous_jobs SET lease_until = $3
		WHERE key = $1 AND claim_token = $2`, c, until)
}

// onClaim runs a statement on the row of claim c's job, keyed by $1 = key
// and $2 = token; no row matched means the claim is lost.
func (s *JobStore) onClaim(ctx context.Context, op, sql string, c rv.Claim, args ...any) error {
	if c.Token == "" {
		return rv.ErrJobClaimLost
	}
	tag, err := s.pool.Exec(ctx, sql, append([]any{c.Job.Key, c.Token}, args...)...)
	if err != nil {
		return jobStoreError(op, err)
	}
	if tag.RowsAffected() != 1 {
		return rv.ErrJobClaimLost
	}
	return nil
}

// jobStoreError translates a driver error: a context's end to rv.ErrTimeout
// or rv.ErrCanceled; a failed connection, a network timeout, a server
// shutting down or out of connections to rv.ErrStoreUnavailable; other
// errors stay internal.
func jobStoreError(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("postgres: %s: %w", op, err)
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	code := pgErrorCode(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return rv.ErrTimeout.Wrap(err)
	case errors.Is(err, context.Canceled):
		return rv.ErrCanceled.Wrap(err)
	case errors.As(err, &connectErr), errors.As(err, &netErr), pgconn.Timeout(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		strings.HasPrefix(code, "08"),                     // connection exception
		code == "53300",                                   // too_many_connections
		code == "57P01", code == "57P02", code == "57P03": // shutting down, cannot connect now
		return rv.ErrStoreUnavailable.Wrap(err)
	}
	return err
}
