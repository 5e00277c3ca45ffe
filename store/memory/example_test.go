package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

func Example() {
	ctx := context.Background()
	store := memory.NewRoomStore(nil)
	w := rooms.Write{Now: time.Now(), TTL: time.Hour}

	room := rooms.Room{Code: "ABCD", HostID: "u1", MaxUsers: 2, CreatedAt: w.Now, UpdatedAt: w.Now}
	if err := store.CreateRoom(ctx, w, room, rooms.Member{ID: "u1", DisplayName: "Ada"}); err != nil {
		panic(err)
	}
	if _, err := store.Join(ctx, w, "ABCD", rooms.Member{ID: "u2", DisplayName: "Grace"}); err != nil {
		panic(err)
	}
	_, err := store.Join(ctx, w, "ABCD", rooms.Member{ID: "u3", DisplayName: "Edsger"})
	fmt.Println("third join:", errors.Is(err, rooms.ErrRoomFull))

	res, _ := store.Leave(ctx, w, "ABCD", "u1", false)
	fmt.Println("new host:", res.Room.HostID)

	members, _ := store.Members(ctx, "ABCD")
	for _, m := range members {
		fmt.Println("member:", m.DisplayName)
	}
	// Output:
	// third join: true
	// new host: u2
	// member: Grace
}

func ExampleBroker() {
	ctx := context.Background()
	broker := memory.NewBroker()
	// The instance has sockets in room:ABCD: it receives that room's events.
	_ = broker.Follow(ctx, "/rooms", "room:ABCD")

	received := make(chan rv.Event)
	unsubscribe, _ := broker.Subscribe(ctx, func(ev rv.Event) { received <- ev })
	defer unsubscribe()

	_ = broker.Notify(ctx, rv.NewEvent("/rooms", "room:ABCD", "room:closed", map[string]string{"reason": "host left"}))
	ev := <-received
	fmt.Println(ev.Target, ev.Name, string(ev.Data))
	// Output:
	// room:ABCD room:closed {"reason":"host left"}
}

func ExampleRateLimiter() {
	ctx := context.Background()
	limiter := memory.NewRateLimiter(nil)
	for range 3 {
		allowed, _, _ := limiter.Allow(ctx, "join:203.0.113.7", 2, time.Minute)
		fmt.Println(allowed)
	}
	// Output:
	// true
	// true
	// false
}
