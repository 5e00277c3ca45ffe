package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
)

var _ rv.JobStore = (*JobStore)(nil)

// The job scripts, one per operation, each prefixed with lua/job_lib.lua.
var (
	jobScheduleScript = jobScript("job_schedule.lua")
	jobCancelScript   = jobScript("job_cancel.lua")
	jobClaimScript    = jobScript("job_claim.lua")
	jobCompleteScript = jobScript("job_complete.lua")
	jobRetryScript    = jobScript("job_retry.lua")
	jobExtendScript   = jobScript("job_extend.lua")
)

func jobScript(name string) *goredis.Script {
	return goredis.NewScript(luaSource("job_lib.lua") + "\n" + luaSource(name))
}

// JobStore is an rv.JobStore kept in Redis, shared by every instance that
// uses the same Redis and prefix. Each method is one Lua script. Create
// one with NewJobStore; it is safe for concurrent use.
//
// With the default prefix "rv:", the keys are
//
//	rv:{jobs}:due        sorted set: job keys scored by the unix
//	                     millisecond from which each can be claimed: its
//	                     due time, or the end of its lease while claimed
//	rv:{jobs}:job:<key>  hash: kind, due, payload, attempt, and while
//	                     claimed token and lease (unix milliseconds)
//
// so a claim is one range query on the sorted set, whatever the number of
// jobs. Jobs have no TTL: they stay until completed or cancelled. The
// braces are a Redis Cluster hash tag: every job of a prefix lives in one
// slot, on one shard of a cluster, so that one script can claim several
// jobs. Times are kept to the millisecond; a lease is rounded up to whole
// milliseconds. Fencing tokens are random per claim call.
type JobStore struct {
	client goredis.UniversalClient
	dueKey string
	prefix string // of the job hashes: <prefix>{jobs}:job:
}

// NewJobStore returns a JobStore that keeps its keys under prefix (""
// means DefaultPrefix) in client.
func NewJobStore(client goredis.UniversalClient, prefix string) *JobStore {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &JobStore{client: client, dueKey: prefix + "{jobs}:due", prefix: prefix + "{jobs}:job:"}
}

func (s *JobStore) keys(key string) []string { return []string{s.dueKey, s.prefix + key} }

// Schedule implements rv.JobStore.
func (s *JobStore) Schedule(ctx context.Context, job rv.Job) error {
	if err := job.Validate(); err != nil {
		return err
	}
	err := jobScheduleScript.Run(ctx, s.client, s.keys(job.Key), job.Key, job.Kind, job.Due.UnixMilli(), job.Payload).Err()
	return jobStoreError("schedule job", err)
}

// Cancel implements rv.JobStore.
func (s *JobStore) Cancel(ctx context.Context, key string) (bool, error) {
	if err := rv.ValidateJobKey(key); err != nil {
		return false, err
	}
	n, err := jobCancelScript.Run(ctx, s.client, s.keys(key), key).Int()
	if err != nil {
		return false, jobStoreError("cancel job", err)
	}
	return n == 1, nil
}

// Claim implements rv.JobStore.
func (s *JobStore) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]rv.Claim, error) {
	if lease <= 0 || limit <= 0 {
		return nil, rv.ErrInvalidJob.WithMessage("a claim needs a positive lease and limit")
	}
	ms := lease.Milliseconds()
	if lease%time.Millisecond != 0 {
		ms++
	}
	at := now.UnixMilli()
	until := at + ms
	res, err := jobClaimScript.Run(ctx, s.client, []string{s.dueKey}, at, until, limit, rand.Text()).Slice()
	if err != nil {
		return nil, jobStoreError("claim jobs", err)
	}
	claims := make([]rv.Claim, 0, len(res))
	for _, item := range res {
		c, err := decodeJobClaim(item)
		if err != nil {
			return nil, err
		}
		c.LeaseUntil = time.UnixMilli(until).UTC()
		claims = append(claims, c)
	}
	return claims, nil
}

// decodeJobClaim decodes {key, kind, due, payload, attempt, token}.
func decodeJobClaim(v any) (rv.Claim, error) {
	f, ok := v.([]any)
	if !ok || len(f) != 6 {
		return rv.Claim{}, fmt.Errorf("redis: malformed claimed job: %v", v)
	}
	key, ok1 := f[0].(string)
	kind, ok2 := f[1].(string)
	due, ok3 := f[2].(string)
	payload, ok4 := f[3].(string)
	attempt, ok5 := f[4].(int64)
	token, ok6 := f[5].(string)
	dueMs, err := strconv.ParseInt(due, 10, 64)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || err != nil {
		return rv.Claim{}, fmt.Errorf("redis: malformed claimed job: %v", v)
	}
	job := rv.Job{Key: key, Kind: kind, Due: time.UnixMilli(dueMs).UTC(), Attempt: int(attempt)}
	if payload != "" {
		job.Payload = []byte(payload)
	}
	return rv.Claim{Job: job, Token: token}, nil
}

// Complete implements rv.JobStore.
func (s *JobStore) Complete(ctx context.Context, c rv.Claim) error {
	return s.onClaim(ctx, "complete job", jobCompleteScript, c)
}

// Retry implements rv.JobStore.
func (s *JobStore) Retry(ctx context.Context, c rv.Claim, due time.Time) error {
	if due.IsZero() {
		return rv.ErrInvalidJob.WithMessage("a retry needs a due time")
	}
	return s.onClaim(ctx, "retry job", jobRetryScript, c, due.UnixMilli())
}

// Extend implements rv.JobStore.
func (s *JobStore) Extend(ctx context.Context, c rv.Claim, until time.Time) error {
	if until.IsZero() {
		return rv.ErrInvalidJob.WithMessage("an extension needs a lease end")
	}
	return s.onClaim(ctx, "extend job lease", jobExtendScript, c, until.UnixMilli())
}

// onClaim runs a script that acts on claim c and answers 1, or 0 when the
// claim is lost.
func (s *JobStore) onClaim(ctx context.Context, op string, script *goredis.Script, c rv.Claim, args ...any) error {
	if rv.ValidateJobKey(c.Job.Key) != nil || c.Token == "" {
		return rv.ErrJobClaimLost
	}
	n, err := script.Run(ctx, s.client, s.keys(c.Job.Key), append([]any{c.Job.Key, c.Token}, args...)...).Int()
	if err != nil {
		return jobStoreError(op, err)
	}
	if n != 1 {
		return rv.ErrJobClaimLost
	}
	return nil
}

// jobStoreError translates a driver error: a context's end to rv.ErrTimeout
// or rv.ErrCanceled, an unreachable or closed server to
// rv.ErrStoreUnavailable; other errors (a script error, a bug) stay
// internal.
func jobStoreError(op string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("redis: %s: %w", op, err)
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return rv.ErrTimeout.Wrap(err)
	case errors.Is(err, context.Canceled):
		return rv.ErrCanceled.Wrap(err)
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, goredis.ErrClosed), errors.Is(err, goredis.ErrPoolTimeout):
		return rv.ErrStoreUnavailable.Wrap(err)
	}
	return err
}
