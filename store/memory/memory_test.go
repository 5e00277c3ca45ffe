package memory_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestRoomStore(t *testing.T) {
	storetest.RunRooms(t, func(t *testing.T) storetest.RoomHarness {
		clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC))
		return storetest.RoomHarness{
			Store:       memory.NewRoomStore(clock),
			FastForward: clock.Advance,
			Now:         clock.Now,
		}
	})
}

func TestRateLimiter(t *testing.T) {
	storetest.RunRateLimiter(t, func(t *testing.T) (storetest.Limiter, func(time.Duration)) {
		clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC))
		return memory.NewRateLimiter(clock), clock.Advance
	})
}

func TestBroker(t *testing.T) {
	storetest.RunBroker(t, func(t *testing.T) storetest.Broker {
		return memory.NewBroker()
	})
}

func TestRoomStoreSweepsExpiredRooms(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC))
	s := memory.NewRoomStore(clock)
	w := rooms.Write{Now: clock.Now(), TTL: time.Minute}
	for i := range 5000 {
		code := fmt.Sprintf("R%04d", i)
		room := rooms.Room{Code: code, HostID: "h", MaxUsers: 2, CreatedAt: w.Now, UpdatedAt: w.Now}
		if err := s.CreateRoom(ctx, w, room, rooms.Member{ID: "h"}); err != nil {
			t.Fatalf("CreateRoom(%s): %v", code, err)
		}
	}
	clock.Advance(2 * time.Minute)
	w = rooms.Write{Now: clock.Now(), TTL: time.Minute}
	if err := s.CreateRoom(ctx, w, rooms.Room{Code: "NEW", HostID: "h", MaxUsers: 2}, rooms.Member{ID: "h"}); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if n := memory.RoomCount(s); n != 1 {
		t.Errorf("%d rooms kept after the others expired, want 1", n)
	}
}

func TestRateLimiterSweepsEndedWindows(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC))
	l := memory.NewRateLimiter(clock)
	for i := range 5000 {
		if _, _, err := l.Allow(ctx, fmt.Sprint(i), 1, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// A sweep runs at the latest a minute after the previous one.
	clock.Advance(2 * time.Minute)
	if _, _, err := l.Allow(ctx, "last", 1, time.Second); err != nil {
		t.Fatal(err)
	}
	if n := memory.WindowCount(l); n != 1 {
		t.Errorf("%d windows kept after the others ended, want 1", n)
	}
}

func TestRateLimiterExactRetryAfter(t *testing.T) {
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC))
	l := memory.NewRateLimiter(clock)
	l.Allow(ctx, "k", 1, 10*time.Second)
	clock.Advance(2500 * time.Millisecond)
	ok, retryAfter, err := l.Allow(ctx, "k", 1, 10*time.Second)
	if ok || err != nil || retryAfter != 7500*time.Millisecond {
		t.Errorf("Allow = %v, %v, %v; want refused, retry after 7.5s", ok, retryAfter, err)
	}
}

func TestBrokerNotifyDoesNotDeliverOnCallerGoroutine(t *testing.T) {
	ctx := context.Background()
	b := memory.NewBroker()
	_ = b.Follow(ctx, "/rooms", "room:A")
	var mu sync.Mutex
	delivered := make(chan struct{})
	unsubscribe, err := b.Subscribe(ctx, func(rv.Event) {
		mu.Lock() // held by the publisher below until Notify returns
		mu.Unlock()
		close(delivered)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	mu.Lock()
	if err := b.Notify(ctx, rv.NewEvent("/rooms", "room:A", "x", nil)); err != nil {
		t.Fatal(err)
	}
	mu.Unlock()
	select {
	case <-delivered:
	case <-time.After(5 * time.Second):
		t.Fatal("event not delivered")
	}
}

func TestWriteWithoutTTLFails(t *testing.T) {
	ctx := context.Background()
	s := memory.NewRoomStore(nil)
	err := s.CreateRoom(ctx, rooms.Write{Now: time.Now()}, rooms.Room{Code: "A", HostID: "h", MaxUsers: 2}, rooms.Member{ID: "h"})
	if err == nil {
		t.Error("CreateRoom with a zero TTL succeeded")
	}
}
