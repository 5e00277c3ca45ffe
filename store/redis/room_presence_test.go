package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

// TestRoomPresenceKey checks the presence zset's name, members, scores and
// TTL: it lives and dies with the room's other keys.
func TestRoomPresenceKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		ctx := context.Background()
		client, prefix, _ := b.connect(t)
		s := redis.NewRoomStore(client, prefix)
		const ttl = 10 * time.Minute
		now := time.Now()
		w := rooms.Write{Now: now, TTL: ttl}
		if err := s.CreateRoom(ctx, w, rooms.Room{Code: "ABCD", HostID: "host", MaxUsers: 4}, rooms.Member{ID: "host", DisplayName: "Host"}); err != nil {
			t.Fatal(err)
		}
		// The room's TTL halves; Touch gives the zset what is left of it
		// and renews nothing.
		key := prefix + "room:{ABCD}"
		client.PExpire(ctx, key, ttl/2)
		if _, _, err := s.Touch(ctx, w, "ABCD", "host", "sock-1", 30*time.Second); err != nil {
			t.Fatal(err)
		}
		zs, err := client.ZRangeWithScores(ctx, key+":presence", 0, -1).Result()
		if err != nil || len(zs) != 1 || zs[0].Member != "host|sock-1" || int64(zs[0].Score) != now.UnixMilli()+30000 {
			t.Errorf("presence zset = %v, %v; want host|sock-1 scored %d", zs, err, now.UnixMilli()+30000)
		}
		if pttl := client.PTTL(ctx, key+":presence").Val(); pttl <= 0 || pttl > ttl/2 {
			t.Errorf("presence zset TTL %v, want within (0, %v]", pttl, ttl/2)
		}
		if pttl := client.PTTL(ctx, key).Val(); pttl > ttl/2 {
			t.Errorf("room TTL %v after Touch, want at most %v (not renewed)", pttl, ttl/2)
		}
		// A write renews the zset with every other key.
		if _, err := s.Join(ctx, w, "ABCD", rooms.Member{ID: "a", DisplayName: "A"}); err != nil {
			t.Fatal(err)
		}
		if pttl := client.PTTL(ctx, key+":presence").Val(); pttl <= ttl/2 {
			t.Errorf("presence zset TTL %v after Join, want more than %v", pttl, ttl/2)
		}
		if err := s.Close(ctx, "ABCD", "host"); err != nil {
			t.Fatal(err)
		}
		if n := client.Exists(ctx, key+":presence").Val(); n != 0 {
			t.Errorf("presence zset exists after Close")
		}
	})
}
