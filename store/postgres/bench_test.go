package postgres_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/postgres"
)

// BenchmarkRefreshRotation measures refresh-token rotation on Postgres,
// with every parallel goroutine rotating its own chain (one family each),
// and reports the latency percentiles of one rotation and the throughput:
//
//   - Store: AuthStore.RotateRefreshToken alone, one transaction;
//   - Service: auth.Service.Refresh, which adds the user read and the
//     access-token signature.
//
// Run with, for instance:
//
//	RENDEZVOUS_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench RefreshRotation -benchtime 5s ./store/postgres
func BenchmarkRefreshRotation(b *testing.B) {
	pool := testPool(b)
	store := postgres.NewAuthStore(pool)
	svc, err := auth.New(auth.Config{
		Store:   store,
		Cutoffs: memory.NewCutoffStore(nil),
		Secret:  []byte("benchmark-secret-benchmark-secret-32"),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()

	b.Run("Store", func(b *testing.B) {
		runRotations(b, func() func() error {
			s, err := svc.SignupAnonymous(ctx)
			if err != nil {
				b.Fatal(err)
			}
			// The chain starts from the signup's token.
			current := hashOf(b, s)
			return func() error {
				next := make([]byte, 32)
				_, _ = rand.Read(next)
				now := time.Now().UTC().Truncate(time.Millisecond)
				_, err := store.RotateRefreshToken(ctx, auth.Rotation{
					Presented: current, Next: next, Now: now, ExpiresAt: now.Add(30 * 24 * time.Hour),
				})
				current = next
				return err
			}
		})
	})

	b.Run("Service", func(b *testing.B) {
		runRotations(b, func() func() error {
			s, err := svc.SignupAnonymous(ctx)
			if err != nil {
				b.Fatal(err)
			}
			token := s.RefreshToken
			return func() error {
				next, err := svc.Refresh(ctx, token)
				token = next.RefreshToken
				return err
			}
		})
	})
}

// hashOf returns the stored hash of the session's refresh token: the
// SHA-256 of its 32 bytes.
func hashOf(b *testing.B, s auth.Session) []byte {
	b.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(s.RefreshToken)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	return sum[:]
}

// runRotations runs b.N rotations in parallel goroutines; newChain, called
// once per goroutine before its first timed rotation, returns the
// goroutine's rotate function. It reports p50 and p99 latency and
// rotations per second.
func runRotations(b *testing.B, newChain func() func() error) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
	)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		rotate := newChain()
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if err := rotate(); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "rotations/s")
}
