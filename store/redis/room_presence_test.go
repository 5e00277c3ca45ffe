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

// TestRoomRoster checks the roster Admit reads: it follows joins, leaves
// and kicks, carries any display name, and a room without one (created
// before the roster existed) is admitted from its member hashes and gets
// one again at its next join.
func TestRoomRoster(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		ctx := context.Background()
		client, prefix, _ := b.connect(t)
		s := redis.NewRoomStore(client, prefix)
		now := time.Now()
		w := rooms.Write{Now: now, TTL: time.Hour}
		if err := s.CreateRoom(ctx, w, rooms.Room{Code: "ABCD", HostID: "host", MaxUsers: 8}, rooms.Member{ID: "host", DisplayName: "Höst 12:3"}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"a", "b", "c"} {
			if _, err := s.Join(ctx, w, "ABCD", rooms.Member{ID: id, DisplayName: "7:" + id + "ü"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Kick(ctx, w, "ABCD", "host", "b"); err != nil {
			t.Fatal(err)
		}
		want := func(step string) {
			t.Helper()
			all, err := s.Members(ctx, "ABCD")
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := s.Admit(ctx, "ABCD", "a", now)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(all) {
				t.Fatalf("%s: Admit members %+v, Members %+v", step, got, all)
			}
			for i := range all {
				if got[i].ID != all[i].ID || got[i].DisplayName != all[i].DisplayName || !got[i].JoinedAt.Equal(all[i].JoinedAt) {
					t.Errorf("%s: Admit member %d = %+v, Members %+v", step, i, got[i], all[i])
				}
			}
		}
		want("after joins and a kick")
		if err := client.Del(ctx, prefix+"room:{ABCD}:roster").Err(); err != nil {
			t.Fatal(err)
		}
		want("without a roster")
		if _, err := s.Join(ctx, w, "ABCD", rooms.Member{ID: "d", DisplayName: "D"}); err != nil {
			t.Fatal(err)
		}
		if n := client.Exists(ctx, prefix+"room:{ABCD}:roster").Val(); n != 1 {
			t.Errorf("no roster after a join")
		}
		want("rebuilt by a join")
		if _, err := s.Leave(ctx, w, "ABCD", "host", false); err != nil {
			t.Fatal(err)
		}
		want("after the host left")
	})
}
