package session_test

import (
	"context"
	"fmt"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

// A call on the memory stores, with a fake clock: the start, and the end
// job that ends it when its 45 seconds are up.
func Example() {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 2, 14, 20, 0, 0, 0, time.UTC))
	sched, _ := rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore(), Clock: clock})
	notifier := rv.NotifierFunc(func(_ context.Context, evs ...rv.Event) error {
		for _, ev := range evs {
			fmt.Println(ev.Namespace, ev.Target, ev.Name)
		}
		return nil
	})
	svc, err := session.New(session.Config{
		Store:     memory.NewSessionStore(),
		Scheduler: sched,
		Notifier:  notifier,
		Clock:     clock,
		Refund:    func(context.Context, string) error { return nil },
		OnEnded: func(_ context.Context, s session.Session) error {
			fmt.Println("the call took place:", s.EndReason)
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	sched.Handle(session.EndJobKind, svc.HandleEnd)

	s, err := svc.Start(ctx, session.StartRequest{
		SessionID: "5e7c3a1d-2b4f-4c6e-8a9b-0d1e2f3a4b5c",
		Users:     [2]session.StartUser{{UserID: "alice", DebitKey: "debit-1"}, {UserID: "bob", DebitKey: "debit-2"}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("ends at", s.EndAt.Format(time.TimeOnly))

	clock.Advance(45 * time.Second)
	_, _ = sched.RunDue(ctx) // Run does this in a server
	v, _ := svc.Get(ctx, "alice", s.ID)
	fmt.Println(v.Status, v.EndReason)
	// Output:
	// /video user:alice session:start
	// /video user:bob session:start
	// ends at 20:00:45
	// the call took place: timeout
	// /video user:alice session:end
	// /video user:bob session:end
	// ended timeout
}
