package matchmaking_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

// TestServiceOnRedisStore runs the main path on store/redis (miniredis):
// a pair whose OnPair fails once is re-driven with its session id, a lone
// waiter stays, and the disconnect grace refunds and leaves a notice.
func TestServiceOnRedisStore(t *testing.T) {
	mr := miniredis.RunT(t)
	client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	var failures atomic.Int32
	failures.Store(1)
	f := newFixture(t, func(c *matchmaking.Config) { c.Store = redis.NewQueueStore(client, "mm:") })
	f.rec.fail = func(matchmaking.Pair) bool { return failures.Add(-1) >= 0 }

	a, b, c := uuid.New(), uuid.New(), uuid.New()
	for _, u := range []string{a, b, c} {
		f.wallet.fund(u, 1)
	}
	f.join(a, "eu", `{"x":1}`)
	f.join(b, "eu", `{"x":1}`)
	f.join(c, "us", "")
	if n := f.tick(); n != 1 {
		t.Fatalf("Tick made %d pairs", n)
	}
	sid := f.rec.onPairCalls()[0].SessionID
	if st := f.status(a); st.Status != matchmaking.StatusMatched || st.SessionID != sid {
		t.Fatalf("Status of a pending pair's member = %+v", st)
	}
	f.clock.Advance(10 * time.Second)
	f.tick()
	calls := f.rec.onPairCalls()
	if len(calls) != 2 || calls[1].SessionID != sid {
		t.Fatalf("OnPair calls %+v, want the pair again", calls)
	}
	if _, _, ok, _ := f.store.Get(f.ctx, a); ok {
		t.Fatal("the re-driven pair was not acked")
	}

	for range 20 {
		f.tick()
	}
	if st := f.status(c); st.Status != matchmaking.StatusQueued || *st.Position != 0 {
		t.Fatalf("lone waiter after 20 ticks: %+v", st)
	}
	if _, err := f.svc.SocketConnected(f.ctx, c, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SocketDisconnected(f.ctx, c, "s1"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Second)
	f.runDue()
	if st := f.status(c); st.Status != matchmaking.StatusNotQueued {
		t.Fatalf("still queued after the grace: %+v", st)
	}
	n, err := f.svc.SocketConnected(f.ctx, c, "s2")
	if err != nil || n == nil || !n.Refunded || n.Reason != matchmaking.ReasonDisconnected {
		t.Fatalf("notice = %+v, %v", n, err)
	}
	for _, u := range []string{a, b} {
		if d, r := f.wallet.ledger(u); d != 1 || r != 0 {
			t.Fatalf("paired user: %d debits, %d refunds", d, r)
		}
	}
	if d, r := f.wallet.ledger(c); d != 1 || r != 1 {
		t.Fatalf("user taken out: %d debits, %d refunds", d, r)
	}
	f.wallet.check(t)
}
