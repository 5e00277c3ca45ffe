package transport_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/rooms"
	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
)

// Each instance subscribes to the channels of the rooms and users it has
// sockets of, and leaves them when its last socket there disconnects.
func TestInstancesFollowOnlyTheirSockets(t *testing.T) {
	client, prefix := testenv.Redis(t)
	store := redisstore.NewRoomStore(client, prefix)
	b1, b2 := redisstore.NewBroker(client, prefix), redisstore.NewBroker(client, prefix)
	s1 := newStack(t, options{store: store, broker: b1})
	s2 := newStack(t, options{store: store, broker: b2})

	a := s1.create(t, "Ann")
	b := s2.create(t, "Ben")
	ac, _ := member(t, s1, a)
	bc, _ := member(t, s2, b)
	roomA := b1.Channel(rooms.Namespace, rooms.TargetRoom(a.RoomCode))
	roomB := b1.Channel(rooms.Namespace, rooms.TargetRoom(b.RoomCode))
	userA := b1.Channel(rooms.Namespace, rooms.TargetUser(a.UserID))
	// Subscribed before the CONNECT reply: no wait needed.
	wantSubscribers(t, client, map[string]int64{roomA: 1, roomB: 1, userA: 1})

	// A second socket of room A on instance 2 subscribes instance 2 too.
	a2 := s1.join(t, a.RoomCode, "Amy")
	a2c, _ := member(t, s2, a2)
	wantSubscribers(t, client, map[string]int64{roomA: 2})

	// Its events reach both instances.
	ack(t, ac, rooms.EventToggleLock)
	waitEvent(t, a2c, rooms.EventLockToggled, nil)

	// The last local socket leaving unsubscribes the instance.
	a2c.Close()
	waitSubscribers(t, client, roomA, 1)
	ac.Close()
	bc.Close()
	waitSubscribers(t, client, roomA, 0)
	waitSubscribers(t, client, roomB, 0)
	waitSubscribers(t, client, userA, 0)
}

func numSub(t *testing.T, client goredis.UniversalClient, ch string) int64 {
	t.Helper()
	n, err := client.PubSubNumSub(context.Background(), ch).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n[ch]
}

func wantSubscribers(t *testing.T, client goredis.UniversalClient, want map[string]int64) {
	t.Helper()
	for ch, w := range want {
		if got := numSub(t, client, ch); got != w {
			t.Errorf("PUBSUB NUMSUB %s = %d, want %d", ch, got, w)
		}
	}
}

// waitSubscribers waits until ch has want subscribers: an unsubscription
// completes after the socket's disconnection.
func waitSubscribers(t *testing.T, client goredis.UniversalClient, ch string, want int64) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		got := numSub(t, client, ch)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PUBSUB NUMSUB %s = %d after %v, want %d", ch, got, wait, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
