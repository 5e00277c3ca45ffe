package redis_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestSchedulerJobStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunScheduler(t, func(t *testing.T) rv.JobStore {
			client, prefix, _ := b.connect(t)
			return redis.NewJobStore(client, prefix)
		})
	})
}

// TestSchedulerKeyLayout checks the documented keys: one sorted set scored
// by the claimable time and one hash per job, under the {jobs} hash tag.
func TestSchedulerKeyLayout(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	defer client.Close()
	s := redis.NewJobStore(client, "app:")
	due := time.UnixMilli(1_700_000_000_123)
	if err := s.Schedule(ctx, rv.Job{Key: "room:{ABCD}:expire", Kind: "room.expire", Due: due, Payload: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	if got := mr.Keys(); !slices.Equal(got, []string{"app:{jobs}:due", "app:{jobs}:job:room:{ABCD}:expire"}) {
		t.Fatalf("keys = %v", got)
	}
	if score, err := mr.ZScore("app:{jobs}:due", "room:{ABCD}:expire"); err != nil || score != 1_700_000_000_123 {
		t.Errorf("score = %v, %v; want the due time in unix milliseconds", score, err)
	}
	if v := mr.HGet("app:{jobs}:job:room:{ABCD}:expire", "kind"); v != "room.expire" {
		t.Errorf("kind field = %q", v)
	}
	cs, err := s.Claim(ctx, due, 1500*time.Microsecond, 1) // rounded up to 2 ms
	if err != nil || len(cs) != 1 {
		t.Fatalf("Claim = %v, %v", cs, err)
	}
	if score, _ := mr.ZScore("app:{jobs}:due", "room:{ABCD}:expire"); score != 1_700_000_000_125 {
		t.Errorf("score while claimed = %v, want the lease end", score)
	}
	if v := mr.HGet("app:{jobs}:job:room:{ABCD}:expire", "token"); v != cs[0].Token {
		t.Errorf("token field = %q, want %q", v, cs[0].Token)
	}
	if err := s.Complete(ctx, cs[0]); err != nil {
		t.Fatal(err)
	}
	if got := mr.Keys(); len(got) != 0 {
		t.Errorf("keys after Complete = %v, want none", got)
	}
	// A job hash that went missing (deleted by hand) is dropped by Claim.
	_ = s.Schedule(ctx, rv.Job{Key: "k", Kind: "k", Due: due})
	mr.Del("app:{jobs}:job:k")
	if cs, err := s.Claim(ctx, due, time.Second, 10); err != nil || len(cs) != 0 {
		t.Errorf("Claim of an orphan = %v, %v; want none", cs, err)
	}
	if got := mr.Keys(); len(got) != 0 {
		t.Errorf("keys = %v, want none", got)
	}
}

// TestSchedulerStoreUnavailable checks that an unreachable Redis is
// reported as STORE_UNAVAILABLE, and an expired context as TIMEOUT.
func TestSchedulerStoreUnavailable(t *testing.T) {
	mr := miniredis.RunT(t)
	client := goredis.NewClient(&goredis.Options{Addr: mr.Addr(), MaxRetries: -1})
	defer client.Close()
	s := redis.NewJobStore(client, "")
	ctx := context.Background()
	job := rv.Job{Key: "k", Kind: "k", Due: time.Now()}
	if err := s.Schedule(ctx, job); err != nil {
		t.Fatal(err)
	}
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := s.Claim(expired, time.Now(), time.Second, 1); !errors.Is(err, rv.ErrTimeout) {
		t.Errorf("Claim with an expired context = %v, want TIMEOUT", err)
	}
	mr.Close()
	if err := s.Schedule(ctx, job); !errors.Is(err, rv.ErrStoreUnavailable) {
		t.Errorf("Schedule with Redis down = %v, want STORE_UNAVAILABLE", err)
	}
	if _, err := s.Claim(ctx, time.Now(), time.Second, 1); !errors.Is(err, rv.ErrStoreUnavailable) {
		t.Errorf("Claim with Redis down = %v, want STORE_UNAVAILABLE", err)
	}
}

// The crash test's child process: the environment variables that make the
// test binary run as the child, and what the child prints once its handler
// holds the job.
const (
	envCrashChild  = "RENDEZVOUS_SCHEDULER_CRASH_CHILD"
	envCrashURL    = "RENDEZVOUS_SCHEDULER_CRASH_URL"
	envCrashPrefix = "RENDEZVOUS_SCHEDULER_CRASH_PREFIX"
	crashHolding   = "HOLDING JOB"
)

// TestSchedulerCrashRecovery runs a Scheduler in a child process (this
// test binary again) that claims a job and blocks in its handler, kills the
// child with SIGKILL, and checks that a Scheduler of this process runs the
// job once the child's lease expires, as a later attempt. It needs a real
// Redis server shared by both processes.
func TestSchedulerCrashRecovery(t *testing.T) {
	if os.Getenv(envCrashChild) == "1" {
		crashChild(t)
		return
	}
	url := testenv.RedisURL(t) // skips, or fails when integration tests are required
	client, prefix := testenv.Redis(t)
	ctx := context.Background()
	store := redis.NewJobStore(client, prefix)
	const lease = time.Second
	if err := store.Schedule(ctx, rv.Job{Key: "session:1:end", Kind: "session.end", Due: time.Now(), Payload: []byte("1")}); err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestSchedulerCrashRecovery$", "-test.count=1", "-test.timeout=5m")
	child.Env = append(os.Environ(), envCrashChild+"=1", envCrashURL+"="+url, envCrashPrefix+"="+prefix)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = child.Process.Kill()
			_ = child.Wait()
		}
	}()
	holding := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, crashHolding) {
				holding <- line
				return
			}
		}
		close(holding)
	}()
	select {
	case line, ok := <-holding:
		if !ok {
			t.Fatal("the child exited before holding the job")
		}
		t.Logf("child: %s", line)
	case <-time.After(60 * time.Second):
		t.Fatal("the child did not claim the job within 60 s")
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no clean-up, the claim stays
		t.Fatal(err)
	}
	_ = child.Wait()
	killed = true

	fired := make(chan rv.Job, 1)
	s, err := rv.NewScheduler(rv.SchedulerConfig{Store: store, Lease: lease, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("session.end", func(_ context.Context, job rv.Job) error {
		select {
		case fired <- job:
		default:
		}
		return nil
	})
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(runCtx) })
	defer func() {
		stop()
		wg.Wait()
	}()
	select {
	case job := <-fired:
		// Attempt 2, or later if a starved child let its own lease lapse
		// and claimed the job again before it was killed.
		if job.Attempt < 2 || string(job.Payload) != "1" {
			t.Errorf("job run after the crash = %+v, want a second attempt or later, with the payload", job)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the job did not run within 60 s of the child's death")
	}
	stop()
	wg.Wait()
	if ok, err := store.Cancel(ctx, "session:1:end"); err != nil || ok {
		t.Errorf("the job is still stored after it ran (Cancel = %v, %v)", ok, err)
	}
}

// crashChild is the child of TestSchedulerCrashRecovery: it runs a
// Scheduler whose handler announces the job and blocks until the process
// is killed.
func crashChild(t *testing.T) {
	opts, err := goredis.ParseURL(os.Getenv(envCrashURL))
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts)
	s, err := rv.NewScheduler(rv.SchedulerConfig{
		Store:        redis.NewJobStore(client, os.Getenv(envCrashPrefix)),
		Lease:        time.Second,
		PollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("session.end", func(ctx context.Context, job rv.Job) error {
		fmt.Printf("%s %s attempt %d\n", crashHolding, job.Key, job.Attempt)
		<-ctx.Done() // until killed
		return ctx.Err()
	})
	_ = s.Run(context.Background())
}

// BenchmarkSchedulerClaim measures jobs claimed and completed per second
// on a real Redis server, by 4 runners per CPU claiming batches of 100:
//
//	RENDEZVOUS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench SchedulerClaim -benchtime 20000x ./store/redis
func BenchmarkSchedulerClaim(b *testing.B) {
	client, prefix := testenv.Redis(b)
	storetest.BenchSchedulerClaim(b, redis.NewJobStore(client, prefix), 100, 4)
}

// BenchmarkSchedulerFireDelay measures how late jobs fire on a real Redis
// server with the default poll interval: each job is scheduled directly in
// the store (so the runner is not woken early) with a due time spread over
// the next 100 ms, and the delay from due time to handler call is reported
// as p50 and p99.
//
//	RENDEZVOUS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench SchedulerFireDelay -benchtime 200x ./store/redis
func BenchmarkSchedulerFireDelay(b *testing.B) {
	client, prefix := testenv.Redis(b)
	store := redis.NewJobStore(client, prefix)
	s, err := rv.NewScheduler(rv.SchedulerConfig{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	fired := make(chan time.Duration, 1)
	s.Handle("bench", func(_ context.Context, job rv.Job) error {
		fired <- time.Since(job.Due)
		return nil
	})
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(ctx) })
	defer func() {
		stop()
		wg.Wait()
	}()
	delays := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		due := time.Now().Add(time.Duration(i%100) * time.Millisecond)
		if err := store.Schedule(ctx, rv.Job{Key: fmt.Sprintf("bench:%d", i), Kind: "bench", Due: due}); err != nil {
			b.Fatal(err)
		}
		delays = append(delays, <-fired)
	}
	b.StopTimer()
	slices.Sort(delays)
	pct := func(p float64) float64 {
		return float64(delays[int(p*float64(len(delays)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(delays[len(delays)-1].Microseconds())/1000, "max-ms")
}
