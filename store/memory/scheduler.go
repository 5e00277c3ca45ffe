package memory

import (
	"container/heap"
	"context"
	"crypto/rand"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

var _ rv.JobStore = (*JobStore)(nil)

// JobStore is an in-memory rv.JobStore, for a single-instance deployment
// and for tests: a map of jobs by key and a min-heap of the jobs by the
// time they can next be claimed (their due time, or the end of their
// lease while claimed), under one mutex. Times are kept to the
// millisecond, as store/redis keeps them. Create one with NewJobStore; it
// is safe for concurrent use. Its jobs are lost when the process exits.
type JobStore struct {
	mu    sync.Mutex
	jobs  map[string]*memJob
	queue jobQueue
}

type memJob struct {
	job        rv.Job
	token      string    // "" while unclaimed
	leaseUntil time.Time // while claimed
	at         time.Time // claimable from: job.Due, or leaseUntil while claimed
	index      int       // in the queue
}

// NewJobStore returns an empty JobStore.
func NewJobStore() *JobStore {
	return &JobStore{jobs: make(map[string]*memJob)}
}

// jobMillis returns t to the millisecond, in UTC.
func jobMillis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// leaseMillis returns d rounded up to whole milliseconds.
func leaseMillis(d time.Duration) time.Duration {
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

// Schedule implements rv.JobStore.
func (s *JobStore) Schedule(_ context.Context, job rv.Job) error {
	if err := job.Validate(); err != nil {
		return err
	}
	job.Due = jobMillis(job.Due)
	job.Payload = clonePayload(job.Payload)
	job.Attempt = 0
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.jobs[job.Key]; ok {
		j.job, j.token, j.leaseUntil, j.at = job, "", time.Time{}, job.Due
		heap.Fix(&s.queue, j.index)
		return nil
	}
	j := &memJob{job: job, at: job.Due}
	s.jobs[job.Key] = j
	heap.Push(&s.queue, j)
	return nil
}

// Cancel implements rv.JobStore.
func (s *JobStore) Cancel(_ context.Context, key string) (bool, error) {
	if err := rv.ValidateJobKey(key); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[key]
	if ok {
		s.remove(j)
	}
	return ok, nil
}

// Claim implements rv.JobStore.
func (s *JobStore) Claim(_ context.Context, now time.Time, lease time.Duration, limit int) ([]rv.Claim, error) {
	if lease <= 0 || limit <= 0 {
		return nil, rv.ErrInvalidJob.WithMessage("a claim needs a positive lease and limit")
	}
	now = jobMillis(now)
	until := now.Add(leaseMillis(lease))
	s.mu.Lock()
	defer s.mu.Unlock()
	var claims []rv.Claim
	for len(claims) < limit && len(s.queue) > 0 && !s.queue[0].at.After(now) {
		j := s.queue[0]
		j.job.Attempt++
		j.token = rand.Text()
		j.leaseUntil = until
		j.at = until
		heap.Fix(&s.queue, 0)
		c := rv.Claim{Job: j.job, Token: j.token, LeaseUntil: until}
		c.Job.Payload = clonePayload(j.job.Payload)
		claims = append(claims, c)
	}
	return claims, nil
}

// Complete implements rv.JobStore.
func (s *JobStore) Complete(_ context.Context, c rv.Claim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.held(c)
	if err != nil {
		return err
	}
	s.remove(j)
	return nil
}

// Retry implements rv.JobStore.
func (s *JobStore) Retry(_ context.Context, c rv.Claim, due time.Time) error {
	if due.IsZero() {
		return rv.ErrInvalidJob.WithMessage("a retry needs a due time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.held(c)
	if err != nil {
		return err
	}
	j.job.Due = jobMillis(due)
	j.token, j.leaseUntil, j.at = "", time.Time{}, j.job.Due
	heap.Fix(&s.queue, j.index)
	return nil
}

// Extend implements rv.JobStore.
func (s *JobStore) Extend(_ context.Context, c rv.Claim, until time.Time) error {
	if until.IsZero() {
		return rv.ErrInvalidJob.WithMessage("an extension needs a lease end")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.held(c)
	if err != nil {
		return err
	}
	j.leaseUntil = jobMillis(until)
	j.at = j.leaseUntil
	heap.Fix(&s.queue, j.index)
	return nil
}

// held returns the job that claim c still holds, or ErrJobClaimLost.
func (s *JobStore) held(c rv.Claim) (*memJob, error) {
	j, ok := s.jobs[c.Job.Key]
	if !ok || c.Token == "" || j.token != c.Token {
		return nil, rv.ErrJobClaimLost
	}
	return j, nil
}

func (s *JobStore) remove(j *memJob) {
	heap.Remove(&s.queue, j.index)
	delete(s.jobs, j.job.Key)
}

func clonePayload(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

// jobQueue is a container/heap of jobs, earliest claimable first (by key
// among equal times).
type jobQueue []*memJob

func (q jobQueue) Len() int { return len(q) }

func (q jobQueue) Less(a, b int) bool {
	if !q[a].at.Equal(q[b].at) {
		return q[a].at.Before(q[b].at)
	}
	return q[a].job.Key < q[b].job.Key
}

func (q jobQueue) Swap(a, b int) {
	q[a], q[b] = q[b], q[a]
	q[a].index = a
	q[b].index = b
}

func (q *jobQueue) Push(x any) {
	j := x.(*memJob)
	j.index = len(*q)
	*q = append(*q, j)
}

func (q *jobQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return j
}
