package redis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

// Concurrent reads of many rooms share pipelines: every reader gets its
// own room, a room that does not exist is ErrRoomNotFound, a reader whose
// context is cancelled gets its error without failing the others, and the
// reads take fewer round trips than there are reads.
func TestRoomReadsShareRoundTrips(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		client, prefix, _ := b.connect(t)
		sent := &countHook{}
		client.AddHook(sent)
		s := redis.NewRoomStore(client, prefix)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		const n = 20
		codes := make([]string, n)
		for i := range codes {
			codes[i] = fmt.Sprintf("RB%02d", i)
			room := rooms.Room{Code: codes[i], HostID: fmt.Sprint("host-", i), MaxUsers: 8 + i, State: rooms.StateCreated, CreatedAt: now, UpdatedAt: now}
			host := rooms.Member{ID: room.HostID, DisplayName: "Host", JoinedAt: now}
			if err := s.CreateRoom(ctx, rooms.Write{Now: now, TTL: time.Hour}, room, host); err != nil {
				t.Fatal(err)
			}
		}
		before := sent.n.Load()
		const readers, reads = 40, 50
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		var wg sync.WaitGroup
		for g := range readers {
			wg.Go(func() {
				for k := range reads {
					i := (g + k) % (n + 1)
					if g%10 == 0 && k%5 == 0 {
						if _, err := s.Room(cancelled, codes[i%n]); err == nil {
							t.Errorf("a read with a cancelled context succeeded")
						}
						continue
					}
					r, err := s.Room(ctx, fmt.Sprintf("RB%02d", i))
					switch {
					case i == n:
						if err != rooms.ErrRoomNotFound {
							t.Errorf("missing room: %v, want ErrRoomNotFound", err)
						}
					case err != nil:
						t.Errorf("room %d: %v", i, err)
					case r.Code != codes[i] || r.MaxUsers != 8+i || r.HostID != fmt.Sprint("host-", i):
						t.Errorf("room %d: got %+v", i, r)
					}
				}
			})
		}
		wg.Wait()
		trips := sent.n.Load() - before
		t.Logf("%d reads in %d round trips", readers*reads, trips)
		if trips > readers*reads {
			t.Errorf("%d round trips for %d reads", trips, readers*reads)
		}
	})
}
