package transport_test

import (
	"context"
	"errors"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/transport"
)

// expiryStack is one server instance whose rooms Service, with the given
// TTL, schedules room expiry on the returned Scheduler over jobs.
func expiryStack(t *testing.T, store rooms.Store, broker transport.Broker, clock rv.Clock, jobs rv.JobStore, ttl time.Duration) (*stack, *rv.Scheduler) {
	t.Helper()
	tokens, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := rv.NewScheduler(rv.SchedulerConfig{Store: jobs, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := rooms.New(rooms.Config{Store: store, Tokens: tokens, Notifier: broker, Clock: clock, TTL: ttl, Scheduler: sched})
	if err != nil {
		t.Fatal(err)
	}
	sched.Handle(rooms.ExpireJobKind, svc.HandleExpiry)
	tr, err := transport.New(transport.Config{Modules: []transport.Module{transport.RoomsModule(transport.RoomsConfig{Service: svc})}, Broker: broker})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, tr)
	return &stack{URL: url, Rooms: svc, T: tr, Broker: broker, Store: store}, sched
}

// wantExpired waits for room:closed EXPIRED on c, then for its disconnect.
func wantExpired(t *testing.T, c *siotest.Client) {
	t.Helper()
	var closed struct{ Reason string }
	waitEvent(t, c, rooms.EventClosed, &closed)
	if closed.Reason != rooms.ReasonExpired {
		t.Fatalf("room:closed %+v, want reason EXPIRED", closed)
	}
	if err := c.WaitDisconnect(rooms.Namespace, wait); err != nil {
		t.Fatal(err)
	}
}

func TestRoomExpiryClosesSockets(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Now())
	const ttl = time.Hour
	s, sched := expiryStack(t, memory.NewRoomStore(clock), memory.NewBroker(), clock, memory.NewJobStore(), ttl)
	svc := s.Rooms

	host, err := svc.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := svc.Join(ctx, host.RoomCode, rooms.JoinRequest{DisplayName: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	hc, _ := member(t, s, host)
	bc, _ := member(t, s, bob)
	waitConnected(t, hc, host.UserID)
	waitConnected(t, hc, bob.UserID)

	clock.Advance(ttl + time.Second)
	if n, err := sched.RunDue(ctx); n != 1 || err != nil {
		t.Fatalf("RunDue = %d, %v; want the expiry job", n, err)
	}
	wantExpired(t, hc)
	wantExpired(t, bc)
	for _, c := range []*siotest.Client{hc, bc} {
		for _, name := range c.Events(rooms.Namespace) {
			if name == rooms.EventClosed {
				t.Errorf("a socket got room:closed twice")
			}
		}
	}
	clock.Advance(ttl)
	if n, err := sched.RunDue(ctx); n != 0 || err != nil {
		t.Fatalf("RunDue after the expiry = %d, %v; want nothing to run", n, err)
	}
	if _, err := s.Store.Room(ctx, host.RoomCode); !errors.Is(err, rooms.ErrRoomNotFound) {
		t.Fatalf("Room after expiry: %v", err)
	}
}

// TestRoomExpiryUnderRedis lets real Redis drop the room's keys by their
// TTL: the scheduler, running as on every instance, still announces the
// expiry to the connected member.
func TestRoomExpiryUnderRedis(t *testing.T) {
	client, prefix := testenv.Redis(t)
	store := redisstore.NewRoomStore(client, prefix)
	// The room must not expire before its socket connects: on a loaded
	// machine that can take long, so the TTL grows until the socket gets
	// in first.
	var (
		hc   *siotest.Client
		host rooms.Ticket
	)
	for ttl := time.Second; hc == nil; ttl *= 2 {
		if ttl > time.Minute {
			t.Fatal("the room expired before its socket could connect, even with a one-minute TTL")
		}
		s, sched := expiryStack(t, store, redisstore.NewBroker(client, prefix), rv.SystemClock, redisstore.NewJobStore(client, prefix), ttl)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sched.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			<-done
		})
		var err error
		host, err = s.Rooms.Create(ctx, rooms.CreateRequest{DisplayName: "Host"})
		if err != nil {
			t.Fatal(err)
		}
		c := dial(t, s)
		p, err := c.Connect(rooms.Namespace, map[string]string{"token": host.Token}, wait)
		if err != nil {
			t.Fatal(err)
		}
		if p.Type == 0 {
			hc = c
		}
	}
	wantExpired(t, hc)
	ctx := context.Background()
	if _, err := store.Room(ctx, host.RoomCode); !errors.Is(err, rooms.ErrRoomNotFound) {
		t.Fatalf("Room after expiry: %v", err)
	}
	keys, err := client.Keys(ctx, prefix+"room:*").Result()
	if err != nil || len(keys) != 0 {
		t.Fatalf("room keys after expiry: %v, %v", keys, err)
	}
}
