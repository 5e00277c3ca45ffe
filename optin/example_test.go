package optin_test

import (
	"context"
	"fmt"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

// Two choices after a call, on the memory stores: two MATCHes make a
// match, announced to both.
func Example() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 2, 14, 20, 0, 45, 0, time.UTC))
	sched, _ := rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore(), Clock: clock})
	const sessionID = "5e7c3a1d-2b4f-4c6e-8a9b-0d1e2f3a4b5c"
	svc, err := optin.New(optin.Config{
		Store:     memory.NewOptinStore(),
		Scheduler: sched,
		Clock:     clock,
		Notifier: rv.NotifierFunc(func(_ context.Context, evs ...rv.Event) error {
			for _, ev := range evs {
				fmt.Println(ev.Target, ev.Name)
			}
			return nil
		}),
		// A server adapts the session feature's Lookup.
		Session: func(context.Context, string) (optin.SessionInfo, error) {
			return optin.SessionInfo{Users: [2]string{"alice", "bob"}, Ended: true, EndedAt: clock.Now(), ChoiceOffered: true}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	sched.Handle(optin.AutoPassJobKind, svc.HandleAutoPass)

	// The call ended now: the session feature's OnEnded opens the window.
	if err := svc.OpenWindow(ctx, sessionID, [2]string{"alice", "bob"}, clock.Now()); err != nil {
		panic(err)
	}
	r, _ := svc.Choose(ctx, "alice", sessionID, "MATCH")
	fmt.Println(r.Status, "until", r.Deadline.Format(time.TimeOnly))
	r, _ = svc.Choose(ctx, "bob", sessionID, "MATCH")
	fmt.Println(r.Status, r.Outcome)
	// Output:
	// pending until 20:01:45
	// user:alice match:mutual
	// user:bob match:mutual
	// resolved mutual
}
