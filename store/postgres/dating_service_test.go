package postgres_test

import (
	"context"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/session"
	"github.com/rendezvous-go/rendezvous/store/postgres"
)

// TestDatingLoopOnPostgres runs a call, its end job, the choice window and
// two MATCHes through session.Service and optin.Service on the Postgres
// stores and job store.
func TestDatingLoopOnPostgres(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	clock := fakeclock.New(time.Now().UTC().Truncate(time.Second))
	sched, err := rv.NewScheduler(rv.SchedulerConfig{Store: postgres.NewJobStore(pool), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var events []rv.Event
	notifier := rv.NotifierFunc(func(_ context.Context, evs ...rv.Event) error {
		events = append(events, evs...)
		return nil
	})
	var opt *optin.Service
	sessions, err := session.New(session.Config{
		Store: postgres.NewSessionStore(pool), Scheduler: sched, Notifier: notifier, Clock: clock,
		Refund: func(context.Context, string) error { return nil },
		OnEnded: func(ctx context.Context, s session.Session) error {
			return opt.OpenWindow(ctx, s.ID, [2]string{s.Participants[0].UserID, s.Participants[1].UserID}, s.EndedAt)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	opt, err = optin.New(optin.Config{
		Store: postgres.NewOptinStore(pool), Scheduler: sched, Notifier: notifier, Clock: clock,
		Session: func(ctx context.Context, id string) (optin.SessionInfo, error) {
			s, err := sessions.Lookup(ctx, id)
			if err != nil {
				return optin.SessionInfo{}, err
			}
			return optin.SessionInfo{Users: [2]string{s.Participants[0].UserID, s.Participants[1].UserID}, Ended: !s.Live(), EndedAt: s.EndedAt,
				ChoiceOffered: s.EndReason.OffersChoice()}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sched.Handle(session.EndJobKind, sessions.HandleEnd)
	sched.Handle(optin.AutoPassJobKind, opt.HandleAutoPass)

	a, b := uuid.New(), uuid.New()
	s, err := sessions.Start(ctx, session.StartRequest{SessionID: uuid.New(), Users: [2]session.StartUser{{UserID: a, DebitKey: "da"}, {UserID: b, DebitKey: "db"}}})
	if err != nil {
		t.Fatal(err)
	}
	if id, busy, err := sessions.Busy(ctx, b); err != nil || !busy || id != s.ID {
		t.Fatalf("Busy = %s, %v, %v", id, busy, err)
	}
	clock.Advance(45 * time.Second)
	if n, err := sched.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("RunDue at EndAt = %d, %v", n, err)
	}
	if v, err := sessions.Get(ctx, a, s.ID); err != nil || v.Status != session.StatusEnded || v.EndReason != session.ReasonTimeout {
		t.Fatalf("Get = %+v, %v", v, err)
	}
	if r, err := opt.Choose(ctx, a, s.ID, "MATCH"); err != nil || r.Status != optin.StatusPending || !r.Deadline.Equal(s.EndAt.Add(time.Minute)) {
		t.Fatalf("first MATCH = %+v, %v", r, err)
	}
	r, err := opt.Choose(ctx, b, s.ID, "MATCH")
	if err != nil || r.Outcome != optin.Mutual {
		t.Fatalf("second MATCH = %+v, %v", r, err)
	}
	if m, err := opt.Match(ctx, r.MatchID); err != nil || m.SessionID != s.ID {
		t.Fatalf("Match = %+v, %v", m, err)
	}
	clock.Advance(time.Hour)
	if n, err := sched.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("RunDue after the outcome = %d, %v", n, err)
	}
	names := map[string]int{}
	for _, ev := range events {
		names[ev.Name]++
	}
	if names[session.EventStart] != 2 || names[session.EventEnd] != 2 || names[optin.EventMutual] != 2 || len(names) != 3 {
		t.Errorf("events = %v", names)
	}
}
