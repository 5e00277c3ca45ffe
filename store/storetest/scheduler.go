package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// RunScheduler runs the rv.JobStore conformance cases, each as a parallel
// subtest of t with an empty store from its own call of newStore: claim
// and complete, due times, upsert voiding old claims, cancel, claim limit
// and order, lease expiry (a crashed runner's job is claimed again and its
// late Complete refused), Retry, Extend, validation, and concurrent
// claimers never holding one job at once. Stores take every time as an
// argument, so the cases need no clock.
func RunScheduler(t *testing.T, newStore func(t *testing.T) rv.JobStore) {
	t.Helper()
	for _, c := range schedulerCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(&jobT{T: t, s: newStore(t), ctx: context.Background()})
		})
	}
}

// jobBase is the time of the cases, to the millisecond as every store
// keeps it.
var jobBase = time.Date(2025, 3, 14, 15, 9, 26, 535000000, time.UTC)

const jobLease = 30 * time.Second

// jobT is the state of one case.
type jobT struct {
	*testing.T
	s   rv.JobStore
	ctx context.Context
}

func (j *jobT) at(d time.Duration) time.Time { return jobBase.Add(d) }

func (j *jobT) schedule(job rv.Job) {
	j.Helper()
	if err := j.s.Schedule(j.ctx, job); err != nil {
		j.Fatalf("Schedule(%s): %v", job.Key, err)
	}
}

func (j *jobT) claim(now time.Time, limit int) []rv.Claim {
	j.Helper()
	cs, err := j.s.Claim(j.ctx, now, jobLease, limit)
	if err != nil {
		j.Fatalf("Claim: %v", err)
	}
	return cs
}

// claimOne claims at now and wants exactly one job, key.
func (j *jobT) claimOne(now time.Time, key string) rv.Claim {
	j.Helper()
	cs := j.claim(now, 10)
	if len(cs) != 1 || cs[0].Job.Key != key {
		j.Fatalf("Claim at %v = %v, want the one job %s", now.Sub(jobBase), claimKeys(cs), key)
	}
	return cs[0]
}

// claimNone claims at now and wants nothing.
func (j *jobT) claimNone(now time.Time) {
	j.Helper()
	if cs := j.claim(now, 10); len(cs) != 0 {
		j.Fatalf("Claim at %v = %v, want none", now.Sub(jobBase), claimKeys(cs))
	}
}

func (j *jobT) wantLost(what string, err error) {
	j.Helper()
	if !errors.Is(err, rv.ErrJobClaimLost) {
		j.Errorf("%s with a stale claim = %v, want ErrJobClaimLost", what, err)
	}
}

func claimKeys(cs []rv.Claim) []string {
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Job.Key
	}
	return keys
}

var schedulerCases = []struct {
	name string
	run  func(j *jobT)
}{
	{"ScheduleClaimComplete", func(j *jobT) {
		job := rv.Job{Key: "session:42:end", Kind: "session.end", Due: j.at(0), Payload: []byte(`{"session":42}`), Attempt: 7}
		j.schedule(job)
		c := j.claimOne(j.at(time.Second), job.Key)
		if c.Job.Kind != job.Kind || !c.Job.Due.Equal(job.Due) || !bytes.Equal(c.Job.Payload, job.Payload) {
			j.Errorf("claimed job = %+v, want %+v", c.Job, job)
		}
		if c.Job.Attempt != 1 {
			j.Errorf("Attempt = %d, want 1 on the first claim whatever Schedule was given", c.Job.Attempt)
		}
		if c.Token == "" {
			j.Error("the claim has no token")
		}
		if want := j.at(time.Second + jobLease); !c.LeaseUntil.Equal(want) {
			j.Errorf("LeaseUntil = %v, want now+lease %v", c.LeaseUntil, want)
		}
		j.claimNone(j.at(2 * time.Second)) // held by the claim
		if err := j.s.Complete(j.ctx, c); err != nil {
			j.Fatalf("Complete: %v", err)
		}
		j.claimNone(j.at(time.Hour)) // gone, even after the lease
		j.wantLost("a second Complete", j.s.Complete(j.ctx, c))
		if ok, err := j.s.Cancel(j.ctx, job.Key); err != nil || ok {
			j.Errorf("Cancel of a completed job = %v, %v; want false", ok, err)
		}
	}},

	{"NotDueNotClaimed", func(j *jobT) {
		j.schedule(rv.Job{Key: "later", Kind: "k", Due: j.at(time.Second)})
		j.claimNone(j.at(0))
		j.claimNone(j.at(999 * time.Millisecond))
		j.claimOne(j.at(time.Second), "later") // Due <= now
	}},

	{"UpsertReplacesAndVoidsClaim", func(j *jobT) {
		j.schedule(rv.Job{Key: "window:7", Kind: "old", Due: j.at(0), Payload: []byte("one")})
		old := j.claimOne(j.at(0), "window:7")
		j.schedule(rv.Job{Key: "window:7", Kind: "new", Due: j.at(time.Minute), Payload: []byte("two")})
		j.claimNone(j.at(time.Second)) // the new version is not due yet
		j.wantLost("Complete", j.s.Complete(j.ctx, old))
		j.wantLost("Retry", j.s.Retry(j.ctx, old, j.at(0)))
		j.wantLost("Extend", j.s.Extend(j.ctx, old, j.at(time.Hour)))
		c := j.claimOne(j.at(time.Minute), "window:7") // the stale calls left the new job alone
		if c.Job.Kind != "new" || string(c.Job.Payload) != "two" || !c.Job.Due.Equal(j.at(time.Minute)) || c.Job.Attempt != 1 {
			j.Errorf("rescheduled job = %+v, want kind new, payload two, due +1m, attempt 1", c.Job)
		}
		if c.Token == old.Token {
			j.Error("the new claim has the old claim's token")
		}
		// Rescheduling an unclaimed job moves it, earlier or later.
		j.schedule(rv.Job{Key: "moved", Kind: "k", Due: j.at(time.Hour)})
		j.schedule(rv.Job{Key: "moved", Kind: "k", Due: j.at(-time.Hour)})
		j.claimOne(j.at(0), "moved")
	}},

	{"Cancel", func(j *jobT) {
		j.schedule(rv.Job{Key: "a", Kind: "k", Due: j.at(0)})
		j.schedule(rv.Job{Key: "b", Kind: "k", Due: j.at(0)})
		if ok, err := j.s.Cancel(j.ctx, "a"); err != nil || !ok {
			j.Fatalf("Cancel(a) = %v, %v; want true", ok, err)
		}
		if ok, err := j.s.Cancel(j.ctx, "a"); err != nil || ok {
			j.Errorf("Cancel(a) again = %v, %v; want false", ok, err)
		}
		if ok, err := j.s.Cancel(j.ctx, "never"); err != nil || ok {
			j.Errorf("Cancel(never) = %v, %v; want false", ok, err)
		}
		c := j.claimOne(j.at(0), "b")
		// Cancelling a claimed job deletes it; the claim is then lost.
		if ok, err := j.s.Cancel(j.ctx, "b"); err != nil || !ok {
			j.Fatalf("Cancel of a claimed job = %v, %v; want true", ok, err)
		}
		j.wantLost("Complete", j.s.Complete(j.ctx, c))
		j.claimNone(j.at(time.Hour))
	}},

	{"ClaimLimitAndOrder", func(j *jobT) {
		const n = 10
		for i := range n {
			// Scheduled out of order: job i is due i seconds after base.
			k := (i * 7) % n
			j.schedule(rv.Job{Key: fmt.Sprintf("job-%02d", k), Kind: "k", Due: j.at(time.Duration(k) * time.Second)})
		}
		now := j.at(time.Hour)
		var got []string
		for _, limit := range []int{3, 3, 3, 3} {
			cs := j.claim(now, limit)
			if len(cs) > limit {
				j.Fatalf("Claim(limit %d) returned %d jobs", limit, len(cs))
			}
			got = append(got, claimKeys(cs)...)
		}
		if len(got) != n {
			j.Fatalf("claimed %v, want all %d jobs once", got, n)
		}
		for i, key := range got {
			if want := fmt.Sprintf("job-%02d", i); key != want {
				j.Fatalf("claim order = %v, want earliest due first", got)
			}
		}
		j.claimNone(now)
	}},

	{"LeaseExpiryReclaims", func(j *jobT) {
		// A runner claims the job and crashes: once the lease ends another
		// claims it, and the first runner's late calls are refused.
		j.schedule(rv.Job{Key: "crash", Kind: "k", Due: j.at(0), Payload: []byte("p")})
		first := j.claimOne(j.at(0), "crash")
		j.claimNone(j.at(jobLease - time.Millisecond))
		second := j.claimOne(j.at(jobLease), "crash")
		if second.Job.Attempt != 2 || second.Token == first.Token || string(second.Job.Payload) != "p" {
			j.Errorf("re-claim = attempt %d, token %q (first %q), payload %q; want attempt 2, a new token, the payload",
				second.Job.Attempt, second.Token, first.Token, second.Job.Payload)
		}
		j.wantLost("Complete by the expired claim", j.s.Complete(j.ctx, first))
		j.wantLost("Extend by the expired claim", j.s.Extend(j.ctx, first, j.at(time.Hour)))
		j.wantLost("Retry by the expired claim", j.s.Retry(j.ctx, first, j.at(0)))
		j.claimNone(j.at(jobLease + time.Second)) // still held by the second claim
		if err := j.s.Complete(j.ctx, second); err != nil {
			j.Fatalf("Complete by the current claim: %v", err)
		}
		j.claimNone(j.at(time.Hour))
	}},

	{"Retry", func(j *jobT) {
		j.schedule(rv.Job{Key: "flaky", Kind: "k", Due: j.at(0), Payload: []byte{0, 1, 0xff}})
		c := j.claimOne(j.at(0), "flaky")
		if err := j.s.Retry(j.ctx, c, j.at(5*time.Second)); err != nil {
			j.Fatalf("Retry: %v", err)
		}
		j.claimNone(j.at(5*time.Second - time.Millisecond))
		again := j.claimOne(j.at(5*time.Second), "flaky")
		if again.Job.Attempt != 2 || !again.Job.Due.Equal(j.at(5*time.Second)) || !bytes.Equal(again.Job.Payload, []byte{0, 1, 0xff}) {
			j.Errorf("retried job = %+v, want attempt 2, due +5s, the payload", again.Job)
		}
		j.wantLost("a second Retry by the released claim", j.s.Retry(j.ctx, c, j.at(0)))
		j.wantLost("Complete by the released claim", j.s.Complete(j.ctx, c))
		if err := j.s.Complete(j.ctx, again); err != nil {
			j.Fatalf("Complete: %v", err)
		}
	}},

	{"Extend", func(j *jobT) {
		j.schedule(rv.Job{Key: "slow", Kind: "k", Due: j.at(0)})
		c := j.claimOne(j.at(0), "slow")
		if err := j.s.Extend(j.ctx, c, j.at(40*time.Second)); err != nil {
			j.Fatalf("Extend: %v", err)
		}
		j.claimNone(j.at(jobLease))                          // the original lease end
		j.claimNone(j.at(40*time.Second - time.Millisecond)) // just before the extended one
		// An extension after the lease ended still holds while nobody
		// claimed the job.
		if err := j.s.Extend(j.ctx, c, j.at(time.Minute)); err != nil {
			j.Fatalf("Extend after the lease ended, unclaimed: %v", err)
		}
		j.claimNone(j.at(time.Minute - time.Millisecond))
		next := j.claimOne(j.at(time.Minute), "slow")
		if next.Job.Attempt != 2 {
			j.Errorf("Attempt = %d, want 2", next.Job.Attempt)
		}
		j.wantLost("Extend", j.s.Extend(j.ctx, c, j.at(time.Hour)))
		if err := j.s.Complete(j.ctx, next); err != nil {
			j.Fatalf("Complete: %v", err)
		}
	}},

	{"KeysAndPayloads", func(j *jobT) {
		keys := []string{"room:{ABCD}:expire", "ban:6f1c2f4e-3a59-4d43-9a55-3c1f0b7d2a10", "é ü 🎲", "a:b:c", string(bytes.Repeat([]byte("k"), rv.MaxJobKeyLen))}
		payloads := [][]byte{nil, {0}, bytes.Repeat([]byte{0xff, 0, '\'', '"'}, rv.MaxJobPayload/4)}
		for i, key := range keys {
			j.schedule(rv.Job{Key: key, Kind: fmt.Sprintf("kind-%d", i), Due: j.at(time.Duration(i) * time.Millisecond), Payload: payloads[i%len(payloads)]})
		}
		cs := j.claim(j.at(time.Second), len(keys))
		if len(cs) != len(keys) {
			j.Fatalf("claimed %v, want %v", claimKeys(cs), keys)
		}
		for i, c := range cs {
			if c.Job.Key != keys[i] || c.Job.Kind != fmt.Sprintf("kind-%d", i) || !bytes.Equal(c.Job.Payload, payloads[i%len(payloads)]) {
				j.Errorf("job %d = key %q kind %q payload of %d bytes; want %q, its kind and payload of %d bytes",
					i, c.Job.Key, c.Job.Kind, len(c.Job.Payload), keys[i], len(payloads[i%len(payloads)]))
			}
		}
		// Jobs are independent: completing one leaves the others.
		if err := j.s.Complete(j.ctx, cs[0]); err != nil {
			j.Fatal(err)
		}
		if ok, err := j.s.Cancel(j.ctx, keys[1]); err != nil || !ok {
			j.Errorf("Cancel(%q) = %v, %v", keys[1], ok, err)
		}
		if got := j.claim(j.at(time.Hour), 10); len(got) != len(keys)-2 {
			j.Errorf("after one Complete and one Cancel, re-claimed %v, want the other %d", claimKeys(got), len(keys)-2)
		}
	}},

	{"Validation", func(j *jobT) {
		bad := []rv.Job{
			{Key: "", Kind: "k", Due: j.at(0)},
			{Key: "k", Kind: "", Due: j.at(0)},
			{Key: "k", Kind: "k"},
			{Key: "line\nbreak", Kind: "k", Due: j.at(0)},
			{Key: "nul\x00", Kind: "k", Due: j.at(0)},
			{Key: "\xff\xfe", Kind: "k", Due: j.at(0)},
			{Key: string(bytes.Repeat([]byte("k"), rv.MaxJobKeyLen+1)), Kind: "k", Due: j.at(0)},
			{Key: "k", Kind: string(bytes.Repeat([]byte("k"), rv.MaxJobKindLen+1)), Due: j.at(0)},
			{Key: "k", Kind: "k", Due: j.at(0), Payload: make([]byte, rv.MaxJobPayload+1)},
		}
		for _, job := range bad {
			if err := j.s.Schedule(j.ctx, job); !errors.Is(err, rv.ErrInvalidJob) {
				j.Errorf("Schedule(%q, %q, due %v, %d bytes) = %v, want ErrInvalidJob", job.Key, job.Kind, job.Due, len(job.Payload), err)
			}
		}
		if _, err := j.s.Cancel(j.ctx, ""); !errors.Is(err, rv.ErrInvalidJob) {
			j.Errorf("Cancel(\"\") = %v, want ErrInvalidJob", err)
		}
		for _, c := range []struct {
			lease time.Duration
			limit int
		}{{0, 1}, {time.Second, 0}, {-time.Second, 1}} {
			if _, err := j.s.Claim(j.ctx, j.at(0), c.lease, c.limit); !errors.Is(err, rv.ErrInvalidJob) {
				j.Errorf("Claim(lease %v, limit %d) = %v, want ErrInvalidJob", c.lease, c.limit, err)
			}
		}
		j.claimNone(j.at(time.Hour)) // nothing was stored
		// A claim that was never handed out holds nothing.
		forged := rv.Claim{Job: rv.Job{Key: "ghost", Kind: "k", Due: j.at(0)}, Token: "forged"}
		j.wantLost("Complete of an unknown job", j.s.Complete(j.ctx, forged))
		j.schedule(rv.Job{Key: "ghost", Kind: "k", Due: j.at(0)})
		j.wantLost("Complete of an unclaimed job", j.s.Complete(j.ctx, forged))
		forged.Token = ""
		j.wantLost("Complete with an empty token", j.s.Complete(j.ctx, forged))
		j.claimOne(j.at(0), "ghost")
	}},

	{"ConcurrentClaimersNeverShareAJob", func(j *jobT) {
		// Runners claim and complete concurrently while one of them now and
		// then "crashes": it lets its claims lapse and moves time past the
		// lease, so jobs are also claimed again after expiry. Whatever the
		// interleaving, the claims of one job hold it in disjoint intervals
		// [now, LeaseUntil), only the job's last claim completes it, and
		// each job is completed exactly once.
		const jobs, runners = 200, 8
		for i := range jobs {
			j.schedule(rv.Job{Key: fmt.Sprintf("j%03d", i), Kind: "k", Due: j.at(time.Duration(i%20) * time.Millisecond)})
		}
		type held struct {
			from  time.Time
			claim rv.Claim
		}
		var (
			mu        sync.Mutex
			claims    = map[string][]held{}
			completed = map[string][]string{} // key → tokens that completed it
			clock     atomic.Int64            // milliseconds after base
			done      atomic.Int32
			wg        sync.WaitGroup
		)
		const leaseMs = int64(jobLease / time.Millisecond)
		clock.Store(1000)
		// A runner that crashed before the others started holds 20 jobs.
		for _, c := range j.claim(j.at(time.Second), 20) {
			claims[c.Job.Key] = append(claims[c.Job.Key], held{j.at(time.Second), c})
		}
		for r := range runners {
			wg.Go(func() {
				for round := 0; done.Load() < jobs && round < 10000; round++ {
					ms := clock.Load()
					now := j.at(time.Duration(ms) * time.Millisecond)
					cs, err := j.s.Claim(j.ctx, now, jobLease, 5)
					if err != nil {
						j.Errorf("Claim: %v", err)
						return
					}
					if len(cs) == 0 {
						// Nothing claimable: time passes, past the leases.
						clock.CompareAndSwap(ms, ms+leaseMs)
						continue
					}
					mu.Lock()
					for _, c := range cs {
						claims[c.Job.Key] = append(claims[c.Job.Key], held{now, c})
					}
					mu.Unlock()
					if r == 0 && round%3 == 0 {
						clock.Add(leaseMs + 1) // a crash: its claims lapse
						continue
					}
					for _, c := range cs {
						err := j.s.Complete(j.ctx, c)
						switch {
						case err == nil:
							mu.Lock()
							completed[c.Job.Key] = append(completed[c.Job.Key], c.Token)
							mu.Unlock()
							done.Add(1)
						case !errors.Is(err, rv.ErrJobClaimLost):
							j.Errorf("Complete: %v", err)
						}
					}
				}
			})
		}
		wg.Wait()
		if len(completed) != jobs {
			j.Fatalf("%d jobs completed, want %d", len(completed), jobs)
		}
		reclaimed := 0
		for key, hs := range claims {
			slices.SortFunc(hs, func(a, b held) int { return a.from.Compare(b.from) })
			for i := 1; i < len(hs); i++ {
				reclaimed++
				if hs[i].from.Before(hs[i-1].claim.LeaseUntil) {
					j.Errorf("job %s claimed at %v while the claim of %v held it until %v",
						key, hs[i].from.Sub(jobBase), hs[i-1].from.Sub(jobBase), hs[i-1].claim.LeaseUntil.Sub(jobBase))
				}
				if hs[i].claim.Job.Attempt <= hs[i-1].claim.Job.Attempt || hs[i].claim.Token == hs[i-1].claim.Token {
					j.Errorf("job %s: claim %d has attempt %d and token %q after attempt %d and token %q",
						key, i, hs[i].claim.Job.Attempt, hs[i].claim.Token, hs[i-1].claim.Job.Attempt, hs[i-1].claim.Token)
				}
			}
			if tokens := completed[key]; len(tokens) != 1 || tokens[0] != hs[len(hs)-1].claim.Token {
				j.Errorf("job %s completed by %q, want once, by its last claim %q", key, tokens, hs[len(hs)-1].claim.Token)
			}
		}
		j.Logf("%d re-claims after a lapsed lease", reclaimed)
		j.claimNone(j.at(24 * time.Hour))
	}},
}

// BenchSchedulerClaim measures how many jobs per second runners claim and
// complete on store s: b.N due jobs are scheduled, then parallel runners
// (GOMAXPROCS × parallelism) claim batches of batch jobs and complete each
// until none is left. It reports jobs/s.
func BenchSchedulerClaim(b *testing.B, s rv.JobStore, batch, parallelism int) {
	ctx := context.Background()
	now := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range b.N {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.Schedule(ctx, rv.Job{Key: fmt.Sprintf("bench:%d", i), Kind: "bench", Due: now}); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	start := time.Now()
	var total atomic.Int64
	var once sync.Once
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			// Each runner works until the store is empty; pb only starts it.
			for {
				cs, err := s.Claim(ctx, now, time.Minute, batch)
				if err != nil {
					b.Error(err)
					return
				}
				if len(cs) == 0 {
					break
				}
				for _, c := range cs {
					if err := s.Complete(ctx, c); err != nil {
						b.Error(err)
						return
					}
				}
				total.Add(int64(len(cs)))
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	once.Do(func() {
		if total.Load() != int64(b.N) {
			b.Errorf("claimed and completed %d jobs, want %d", total.Load(), b.N)
		}
	})
	b.ReportMetric(float64(total.Load())/elapsed.Seconds(), "jobs/s")
}
