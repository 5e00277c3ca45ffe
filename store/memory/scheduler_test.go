package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestSchedulerJobStore(t *testing.T) {
	storetest.RunScheduler(t, func(t *testing.T) rv.JobStore { return memory.NewJobStore() })
}

func ExampleJobStore() {
	ctx := context.Background()
	store := memory.NewJobStore()
	now := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	_ = store.Schedule(ctx, rv.Job{Key: "session:42:end", Kind: "session.end", Due: now.Add(45 * time.Second)})

	claims, _ := store.Claim(ctx, now, 30*time.Second, 10)
	fmt.Println("due now:", len(claims))

	claims, _ = store.Claim(ctx, now.Add(45*time.Second), 30*time.Second, 10)
	fmt.Println("due at +45s:", claims[0].Job.Key, "attempt", claims[0].Job.Attempt)
	fmt.Println("complete:", store.Complete(ctx, claims[0]))
	// Output:
	// due now: 0
	// due at +45s: session:42:end attempt 1
	// complete: <nil>
}
