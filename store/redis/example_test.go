package redis_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

func Example() {
	// An in-process Redis stands in for a real server here.
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	defer mr.Close()
	client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	defer client.Close()

	ctx := context.Background()
	store := redis.NewRoomStore(client, "") // keys under "rv:"
	w := rooms.Write{Now: time.Now(), TTL: time.Hour}

	room := rooms.Room{Code: "ABCD", HostID: "u1", MaxUsers: 8, CreatedAt: w.Now, UpdatedAt: w.Now}
	if err := store.CreateRoom(ctx, w, room, rooms.Member{ID: "u1", DisplayName: "Ada"}); err != nil {
		panic(err)
	}
	if _, err := store.Join(ctx, w, "ABCD", rooms.Member{ID: "u2", DisplayName: "Grace"}); err != nil {
		panic(err)
	}
	res, _ := store.Leave(ctx, w, "ABCD", "u1", false)
	fmt.Println("new host:", res.Room.HostID)

	for _, key := range mr.Keys() {
		fmt.Println(key, mr.TTL(key))
	}
	// Output:
	// new host: u2
	// rv:room:{ABCD} 1h0m0s
	// rv:room:{ABCD}:roster 1h0m0s
	// rv:room:{ABCD}:user:u2 1h0m0s
	// rv:room:{ABCD}:users 1h0m0s
}

func ExampleNewBreaker() {
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	client := goredis.NewClient(&goredis.Options{
		Addr:                  mr.Addr(),
		ContextTimeoutEnabled: true, // let Timeouts bound reads and writes
		DialerRetries:         1,
		MaxRetries:            -1,
	})
	defer client.Close()
	breaker, err := redis.NewBreaker(redis.BreakerConfig{Failures: 2, Cooldown: time.Second})
	if err != nil {
		panic(err)
	}
	client.AddHook(breaker)
	client.AddHook(redis.Timeouts{Command: 500 * time.Millisecond})
	store := redis.NewRoomStore(client, "")

	mr.Close() // Redis goes away
	for range 3 {
		_, err := store.Room(context.Background(), "ABCD")
		fmt.Println(rv.CodeOf(err), errors.Is(err, redis.ErrCircuitOpen))
	}
	fmt.Println("breaker:", breaker.State())
	// Output:
	// STORE_UNAVAILABLE false
	// STORE_UNAVAILABLE false
	// STORE_UNAVAILABLE true
	// breaker: open
}
