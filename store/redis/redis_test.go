package redis_test

import (
	"context"
	"errors"
	"github.com/rendezvous-go/rendezvous/internal/logbuf"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

// backend is a Redis server under test: an in-process miniredis, whose
// time the test moves, or a real server on real time.
type backend struct {
	name string
	// connect returns a client and a key prefix isolated from every other
	// test, and a function that moves time forward (nil on real time).
	connect func(t *testing.T) (client goredis.UniversalClient, prefix string, fastForward func(time.Duration))
	// skip skips t when the backend is unavailable.
	skip func(t *testing.T)
}

var backends = []backend{
	{
		name: "Miniredis",
		connect: func(t *testing.T) (goredis.UniversalClient, string, func(time.Duration)) {
			mr := miniredis.RunT(t)
			client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { _ = client.Close() })
			return client, "rv:", mr.FastForward
		},
		skip: func(*testing.T) {},
	},
	{
		name: "Redis",
		connect: func(t *testing.T) (goredis.UniversalClient, string, func(time.Duration)) {
			client, prefix := testenv.Redis(t)
			return client, prefix, nil
		},
		skip: func(t *testing.T) { testenv.RedisURL(t) },
	},
}

// forEachBackend runs test as a subtest per backend.
func forEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			b.skip(t)
			test(t, b)
		})
	}
}

func TestRoomStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunRooms(t, func(t *testing.T) storetest.RoomHarness {
			client, prefix, fastForward := b.connect(t)
			h := storetest.RoomHarness{Store: redis.NewRoomStore(client, prefix), Now: time.Now}
			if fastForward != nil {
				clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC))
				h.Now = clock.Now
				h.FastForward = func(d time.Duration) {
					clock.Advance(d)
					fastForward(d)
				}
			}
			return h
		})
	})
}

func TestRateLimiter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunRateLimiter(t, func(t *testing.T) (storetest.Limiter, func(time.Duration)) {
			client, prefix, fastForward := b.connect(t)
			return redis.NewRateLimiter(client, prefix), fastForward
		})
	})
}

func TestBroker(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunBroker(t, func(t *testing.T) storetest.Broker {
			client, prefix, _ := b.connect(t)
			return redis.NewBroker(client, prefix)
		})
	})
}

// TestRoomKeys checks the documented key layout, and that after every
// write each key of the room has a TTL no longer than the write's.
func TestRoomKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		ctx := context.Background()
		client, prefix, _ := b.connect(t)
		s := redis.NewRoomStore(client, prefix)
		const ttl = 10 * time.Minute
		w := func() rooms.Write { return rooms.Write{Now: time.Now(), TTL: ttl} }
		room := "room:{ABCD}"

		// wantKeys checks that exactly the keys want exist, each with a
		// TTL within (minTTL, ttl].
		wantKeys := func(step string, minTTL time.Duration, want ...string) {
			t.Helper()
			var got []string
			iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				key := iter.Val()
				got = append(got, strings.TrimPrefix(key, prefix))
				pttl, err := client.PTTL(ctx, key).Result()
				if err != nil || pttl <= minTTL || pttl > ttl {
					t.Errorf("%s: key %s has TTL %v, %v; want within (%v, %v]", step, key, pttl, err, minTTL, ttl)
				}
			}
			if err := iter.Err(); err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			want = slices.Sorted(slices.Values(want))
			if !slices.Equal(got, want) {
				t.Errorf("%s: keys %v, want %v", step, got, want)
			}
		}
		// check checks that the write of step succeeded and renewed the
		// TTL of every key of the room, then ages the keys so that the
		// next write must renew them again.
		check := func(step string, err error, want ...string) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			wantKeys(step, ttl/2, want...)
			for _, key := range want {
				client.PExpire(ctx, prefix+key, ttl/2)
			}
		}
		now := time.Now()
		err := s.CreateRoom(ctx, w(), rooms.Room{Code: "ABCD", HostID: "h", MaxUsers: 5, CreatedAt: now, UpdatedAt: now}, rooms.Member{ID: "h", DisplayName: "H"})
		check("create", err, room, room+":users", room+":roster", room+":user:h")
		for _, id := range []string{"a", "b", "c"} {
			_, err = s.Join(ctx, w(), "ABCD", rooms.Member{ID: id, DisplayName: id})
		}
		all := []string{room, room + ":users", room + ":roster", room + ":user:h", room + ":user:a", room + ":user:b", room + ":user:c"}
		check("join", err, all...)
		_, err = s.Join(ctx, w(), "ABCD", rooms.Member{ID: "a", DisplayName: "a"})
		check("join again", err, all...)
		_, err = s.ToggleLock(ctx, w(), "ABCD", "h")
		check("toggle lock", err, all...)
		_, err = s.TransferHost(ctx, w(), "ABCD", "h", "a")
		check("transfer host", err, all...)
		_, err = s.Kick(ctx, w(), "ABCD", "a", "c")
		check("kick", err, all[:6]...)
		_, err = s.Leave(ctx, w(), "ABCD", "a", false)
		check("host leave", err, room, room+":users", room+":roster", room+":user:h", room+":user:b")
		_, err = s.Leave(ctx, w(), "ABCD", "h", false)
		check("leave", err, room, room+":users", room+":roster", room+":user:b")

		// Refused writes and reads change no TTL.
		wantErr := func(err, want error) {
			t.Helper()
			if !errors.Is(err, want) {
				t.Errorf("got %v, want %v", err, want)
			}
		}
		_, err = s.Kick(ctx, w(), "ABCD", "h", "b")
		wantErr(err, rooms.ErrNotHost)
		_, err = s.Members(ctx, "ABCD")
		wantErr(err, nil)
		for _, key := range []string{room, room + ":users", room + ":user:b"} {
			if pttl := client.PTTL(ctx, prefix+key).Val(); pttl > ttl/2 {
				t.Errorf("key %s has TTL %v after a refused write and reads, want at most %v", key, pttl, ttl/2)
			}
		}

		res, err := s.Leave(ctx, w(), "ABCD", "b", false)
		if err != nil || !res.Closed {
			t.Fatalf("last leave = %+v, %v", res, err)
		}
		// Only the memory of the closing is left, until rooms.ClosedGrace
		// after the room would have expired.
		var left []string
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			left = append(left, strings.TrimPrefix(iter.Val(), prefix))
		}
		if want := []string{room + ":closed"}; !slices.Equal(left, want) {
			t.Errorf("close: keys %v, want %v", left, want)
		}
		if pttl := client.PTTL(ctx, prefix+room+":closed").Val(); pttl <= rooms.ClosedGrace || pttl > rooms.ClosedGrace+ttl/2 {
			t.Errorf("close: key %s:closed has TTL %v, want within (%v, %v]", room, pttl, rooms.ClosedGrace, rooms.ClosedGrace+ttl/2)
		}
	})
}

func TestRoomStoreRefusesBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		client, prefix, _ := b.connect(t)
		s := redis.NewRoomStore(client, prefix)
		now := time.Now()
		for _, code := range []string{"", "{AB}", "A}B"} {
			err := s.CreateRoom(ctx, rooms.Write{Now: now, TTL: time.Hour}, rooms.Room{Code: code, HostID: "h", MaxUsers: 2}, rooms.Member{ID: "h"})
			if err == nil {
				t.Errorf("CreateRoom(%q) succeeded", code)
			}
		}
		err := s.CreateRoom(ctx, rooms.Write{Now: now}, rooms.Room{Code: "ABCD", HostID: "h", MaxUsers: 2}, rooms.Member{ID: "h"})
		if err == nil {
			t.Error("CreateRoom with a zero TTL succeeded")
		}
		if n := client.DBSize(ctx).Val(); b.name == "Miniredis" && n != 0 {
			t.Errorf("%d keys written by refused creates", n)
		}
		if _, err := s.Room(ctx, "ABCD"); !errors.Is(err, rooms.ErrRoomNotFound) {
			t.Errorf("Room after a refused create: %v", err)
		}
	})
}

func TestRoomStoreUserIDsWithSpecialCharacters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		client, prefix, _ := b.connect(t)
		s := redis.NewRoomStore(client, prefix)
		w := rooms.Write{Now: time.Now(), TTL: time.Hour}
		if err := s.CreateRoom(ctx, w, rooms.Room{Code: "ABCD", HostID: "{h}", MaxUsers: 4}, rooms.Member{ID: "{h}"}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"a:b", "*", "user:x"} {
			if _, err := s.Join(ctx, w, "ABCD", rooms.Member{ID: id, DisplayName: id}); err != nil {
				t.Fatalf("Join(%q): %v", id, err)
			}
		}
		members, err := s.Members(ctx, "ABCD")
		if err != nil || len(members) != 4 || members[0].ID != "{h}" || members[3].ID != "user:x" {
			t.Errorf("Members = %+v, %v", members, err)
		}
		if _, err := s.Kick(ctx, w, "ABCD", "{h}", "*"); err != nil {
			t.Fatalf("Kick(*): %v", err)
		}
		if _, err := s.Member(ctx, "ABCD", "a:b"); err != nil {
			t.Errorf("Member(a:b) after kicking *: %v", err)
		}
	})
}

func TestRoomStorePing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		client, prefix, _ := b.connect(t)
		if err := redis.NewRoomStore(client, prefix).Ping(context.Background()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

func TestRateLimiterKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		client, prefix, _ := b.connect(t)
		l := redis.NewRateLimiter(client, prefix)
		if _, _, err := l.Allow(ctx, "join:10.0.0.1", 5, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		key := prefix + "ratelimit:join:10.0.0.1"
		if n, err := client.Get(ctx, key).Int(); err != nil || n != 1 {
			t.Errorf("GET %s = %d, %v; want 1", key, n, err)
		}
		if pttl := client.PTTL(ctx, key).Val(); pttl <= 0 || pttl > 30*time.Second {
			t.Errorf("PTTL %s = %v", key, pttl)
		}
		// Limiters sharing a prefix share counts, as instances do.
		other := redis.NewRateLimiter(client, prefix)
		for range 4 {
			other.Allow(ctx, "join:10.0.0.1", 5, 30*time.Second)
		}
		if ok, _, _ := l.Allow(ctx, "join:10.0.0.1", 5, 30*time.Second); ok {
			t.Error("sixth hit across two limiters allowed")
		}
	})
}

func TestBrokerSkipsMalformedMessages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		client, prefix, _ := b.connect(t)
		var logs logbuf.Buffer
		broker := redis.NewBroker(client, prefix, redis.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		got := make(chan rv.Event, 10)
		unsubscribe, err := broker.Subscribe(ctx, func(ev rv.Event) { got <- ev })
		if err != nil {
			t.Fatal(err)
		}
		defer unsubscribe()
		if err := broker.Follow(ctx, "/rooms", "room:A"); err != nil {
			t.Fatal(err)
		}
		if err := client.Publish(ctx, broker.Channel("/rooms", "room:A"), "not json").Err(); err != nil {
			t.Fatal(err)
		}
		if err := broker.Notify(ctx, rv.NewEvent("/rooms", "room:A", "ok", nil)); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-got:
			if ev.Name != "ok" {
				t.Errorf("first event delivered = %+v, want the valid one", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no event delivered")
		}
		if !strings.Contains(logs.String(), "malformed") {
			t.Errorf("log = %q, want the malformed message reported", logs.String())
		}
	})
}

func TestBrokerSharedAcrossInstances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		client, prefix, _ := b.connect(t)
		publisher, subscriber := redis.NewBroker(client, prefix), redis.NewBroker(client, prefix)
		elsewhere := redis.NewBroker(client, prefix+"other:")
		got, stray := make(chan rv.Event, 1), make(chan rv.Event, 1)
		unsubscribe, err := subscriber.Subscribe(ctx, func(ev rv.Event) { got <- ev })
		if err != nil {
			t.Fatal(err)
		}
		defer unsubscribe()
		unsubscribe2, err := elsewhere.Subscribe(ctx, func(ev rv.Event) { stray <- ev })
		if err != nil {
			t.Fatal(err)
		}
		defer unsubscribe2()
		for _, b := range []*redis.Broker{subscriber, elsewhere} {
			if err := b.Follow(ctx, "/rooms", "user:1"); err != nil {
				t.Fatal(err)
			}
		}
		if err := publisher.Notify(ctx, rv.NewEvent("/rooms", "user:1", "hello", nil)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("event not delivered to another broker on the same prefix")
		}
		select {
		case ev := <-stray:
			t.Errorf("broker on another prefix got %+v", ev)
		case <-time.After(100 * time.Millisecond):
		}
	})
}

func TestBrokerRejectsUnencodableEvent(t *testing.T) {
	client := goredis.NewClient(&goredis.Options{Addr: miniredis.RunT(t).Addr()})
	defer client.Close()
	err := redis.NewBroker(client, "").Notify(context.Background(), rv.Event{Name: "x", Data: []byte("{not json")})
	if err == nil {
		t.Error("Notify of invalid Data succeeded")
	}
}
