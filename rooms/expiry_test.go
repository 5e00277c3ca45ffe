package rooms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

const expiryTTL = time.Hour

// expiryStack is a Service with a Scheduler over memory stores, all on one
// fake clock.
type expiryStack struct {
	svc   *rooms.Service
	rec   *recorder
	clk   *fakeclock.Clock
	sched *rv.Scheduler
	store rooms.Store
}

func newExpiryStack(t *testing.T, wrap func(rooms.Scheduler) rooms.Scheduler) *expiryStack {
	t.Helper()
	x := &expiryStack{}
	var err error
	x.svc, x.rec, x.clk = newService(t, func(c *rooms.Config) {
		x.store = c.Store
		x.sched, err = rv.NewScheduler(rv.SchedulerConfig{Store: memory.NewJobStore(), Clock: c.Clock})
		if err != nil {
			t.Fatal(err)
		}
		c.Scheduler = x.sched
		if wrap != nil {
			c.Scheduler = wrap(x.sched)
		}
		c.TTL = expiryTTL
	})
	x.sched.Handle(rooms.ExpireJobKind, x.svc.HandleExpiry)
	return x
}

// runDue runs the due jobs and returns how many ran.
func (x *expiryStack) runDue(t *testing.T) int {
	t.Helper()
	n, err := x.sched.RunDue(context.Background())
	if err != nil {
		t.Fatalf("RunDue: %v", err)
	}
	return n
}

func closedReasons(evs []rv.Event) []string {
	var reasons []string
	for _, ev := range evs {
		if ev.Name != rooms.EventClosed {
			continue
		}
		var body struct {
			Reason string `json:"reason"`
		}
		_ = json.Unmarshal(ev.Data, &body)
		reason := body.Reason
		if !ev.Disconnect {
			reason += " (no disconnect)"
		}
		reasons = append(reasons, ev.Target+" "+reason)
	}
	return reasons
}

func TestRoomExpiryAnnouncedOnce(t *testing.T) {
	ctx := context.Background()
	x := newExpiryStack(t, nil)
	tk, err := x.svc.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.svc.Join(ctx, tk.RoomCode, rooms.JoinRequest{DisplayName: "Guest"}); err != nil {
		t.Fatal(err)
	}
	x.rec.take()

	x.clk.Advance(expiryTTL - time.Second)
	if n := x.runDue(t); n != 0 {
		t.Fatalf("%d jobs ran before the room's TTL ran out", n)
	}
	x.clk.Advance(2 * time.Second)
	if n := x.runDue(t); n != 1 {
		t.Fatalf("%d jobs ran after the room's TTL ran out, want 1", n)
	}
	want := fmt.Sprint([]string{rooms.TargetRoom(tk.RoomCode) + " " + rooms.ReasonExpired})
	if got := fmt.Sprint(closedReasons(x.rec.take())); got != want {
		t.Fatalf("room:closed events = %s, want %s", got, want)
	}
	if _, err := x.svc.Get(ctx, tk.RoomCode); !errors.Is(err, rooms.ErrRoomNotFound) {
		t.Fatalf("Get after expiry: %v, want ErrRoomNotFound", err)
	}
	x.clk.Advance(24 * time.Hour)
	if n := x.runDue(t); n != 0 {
		t.Fatalf("%d jobs ran after the expiry was announced", n)
	}
	if evs := x.rec.take(); len(evs) != 0 {
		t.Fatalf("events after the expiry was announced: %v", evs)
	}
}

func TestRoomExpiryFollowsTheLastWrite(t *testing.T) {
	ctx := context.Background()
	x := newExpiryStack(t, nil)
	tk, err := x.svc.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
	if err != nil {
		t.Fatal(err)
	}
	x.clk.Advance(expiryTTL / 2)
	if _, err := x.svc.ToggleLock(ctx, tk.RoomCode, tk.UserID); err != nil {
		t.Fatal(err)
	}
	x.rec.take()

	x.clk.Advance(expiryTTL/2 + time.Second) // past create+TTL, before write+TTL
	if n := x.runDue(t); n != 1 {
		t.Fatalf("%d jobs ran at create+TTL, want the expiry job", n)
	}
	if evs := x.rec.take(); len(evs) != 0 {
		t.Fatalf("events while the room is alive: %v", evs)
	}
	if _, err := x.svc.Get(ctx, tk.RoomCode); err != nil {
		t.Fatalf("Get of the renewed room: %v", err)
	}
	x.clk.Advance(expiryTTL/2 - 2*time.Second) // just before write+TTL
	if n := x.runDue(t); n != 0 {
		t.Fatalf("%d jobs ran before the renewed TTL ran out", n)
	}
	x.clk.Advance(2 * time.Second)
	if n := x.runDue(t); n != 1 {
		t.Fatalf("%d jobs ran after the renewed TTL ran out, want 1", n)
	}
	if got := closedReasons(x.rec.take()); len(got) != 1 {
		t.Fatalf("room:closed events = %v, want one EXPIRED", got)
	}
}

// failingCancel is a rooms.Scheduler whose Cancel always fails, as when
// the job store is briefly unreachable.
type failingCancel struct{ rooms.Scheduler }

func (failingCancel) Cancel(context.Context, string) (bool, error) {
	return false, rv.ErrStoreUnavailable
}

func TestClosedRoomNeverExpires(t *testing.T) {
	for name, wrap := range map[string]func(rooms.Scheduler) rooms.Scheduler{
		"cancelled":     nil,
		"cancel failed": func(s rooms.Scheduler) rooms.Scheduler { return failingCancel{s} },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			x := newExpiryStack(t, wrap)
			closed, err := x.svc.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
			if err != nil {
				t.Fatal(err)
			}
			left, err := x.svc.Create(ctx, rooms.CreateRequest{DisplayName: "Alone"})
			if err != nil {
				t.Fatal(err)
			}
			if err := x.svc.Close(ctx, closed.RoomCode, closed.UserID); err != nil {
				t.Fatal(err)
			}
			if err := x.svc.Leave(ctx, left.RoomCode, left.UserID); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprint([]string{
				rooms.TargetRoom(closed.RoomCode) + " " + rooms.ReasonHostClosed,
				rooms.TargetRoom(left.RoomCode) + " " + rooms.ReasonHostLeft,
			})
			if got := fmt.Sprint(closedReasons(x.rec.take())); got != want {
				t.Fatalf("room:closed events = %s, want %s", got, want)
			}
			x.clk.Advance(expiryTTL + time.Second)
			x.runDue(t)
			if evs := x.rec.take(); len(evs) != 0 {
				t.Fatalf("events after the TTL of closed rooms: %v", closedReasons(evs))
			}
		})
	}
}

// TestRoomExpiryConcurrentRunners expires many rooms with several runners
// claiming at once: each room is announced exactly once.
func TestRoomExpiryConcurrentRunners(t *testing.T) {
	ctx := context.Background()
	x := newExpiryStack(t, nil)
	const n = 50
	codes := make(map[string]bool, n)
	for range n {
		tk, err := x.svc.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
		if err != nil {
			t.Fatal(err)
		}
		codes[tk.RoomCode] = true
	}
	x.clk.Advance(expiryTTL + time.Second)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := x.sched.RunDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, ev := range x.rec.take() {
		if ev.Name == rooms.EventClosed {
			count[ev.Target]++
		}
	}
	for code := range codes {
		if c := count[rooms.TargetRoom(code)]; c != 1 {
			t.Errorf("room %s announced %d times, want once", code, c)
		}
	}
}
