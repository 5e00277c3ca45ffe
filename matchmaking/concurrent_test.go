package matchmaking_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

// TestConcurrentJoinLeaveTick: 200 users join and leave at random while
// two instances tick. Every user ends in exactly one pair or refunded
// exactly once, nobody is in two pairs, and the wallet balances.
func TestConcurrentJoinLeaveTick(t *testing.T) {
	t.Run("Memory", func(t *testing.T) {
		store := memory.NewQueueStore()
		runConcurrent(t, store, store)
	})
	t.Run("Redis", func(t *testing.T) {
		client, prefix := testenv.Redis(t)
		// Two instances: two stores on the same Redis and prefix.
		runConcurrent(t, redis.NewQueueStore(client, prefix), redis.NewQueueStore(client, prefix))
	})
}

func runConcurrent(t *testing.T, store1, store2 matchmaking.Store) {
	f := newFixture(t, func(c *matchmaking.Config) { c.Store = store1; c.PairsPerTick = 7 })
	cfg2 := f.config()
	cfg2.Store = store2
	cfg2.PairsPerTick = 7
	svc2 := f.service(cfg2)
	instances := []*matchmaking.Service{f.svc, svc2}

	const users = 200
	regions := []string{"eu", "us", "asia"}
	ids := make([]string, users)
	for i := range ids {
		ids[i] = uuid.New()
		f.wallet.fund(ids[i], 1)
	}
	var (
		done    atomic.Bool
		tickers sync.WaitGroup
		joiners sync.WaitGroup
		left    sync.Map // user -> true when a Leave refunded
	)
	for _, svc := range instances {
		tickers.Add(1)
		go func() {
			defer tickers.Done()
			for !done.Load() {
				if _, err := svc.Tick(f.ctx); err != nil {
					t.Error(err)
					return
				}
				runtime.Gosched()
			}
		}()
	}
	for i, u := range ids {
		joiners.Add(1)
		go func() {
			defer joiners.Done()
			svc := instances[i%2]
			region := regions[rand.IntN(len(regions))]
			clicks := 1 + rand.IntN(2)
			for range clicks {
				// A second click may come after the pairing.
				if _, err := svc.Join(f.ctx, u, region, nil); err != nil && !errors.Is(err, matchmaking.ErrAlreadyInSession) {
					t.Errorf("Join(%s): %v", u, err)
					return
				}
			}
			if rand.IntN(2) == 0 {
				runtime.Gosched()
				lr, err := instances[1-i%2].Leave(f.ctx, u)
				if err != nil {
					t.Errorf("Leave(%s): %v", u, err)
					return
				}
				switch lr.Status {
				case matchmaking.StatusLeft:
					if !lr.Refunded {
						t.Errorf("Leave(%s) = %+v", u, lr)
					}
					left.Store(u, true)
				case matchmaking.StatusAlreadyMatched:
				default:
					t.Errorf("Leave(%s) = %+v", u, lr)
				}
			}
		}()
	}
	joiners.Wait()
	done.Store(true)
	tickers.Wait()
	for {
		n, err := f.svc.Tick(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	// The lone waiters left leave, with a refund.
	waiting, err := store1.Waiting(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waiting > len(regions) {
		t.Errorf("%d users still waiting after the last tick, want at most one per queue", waiting)
	}
	for _, u := range ids {
		if st := f.status(u); st.Status == matchmaking.StatusQueued {
			lr, err := f.svc.Leave(f.ctx, u)
			if err != nil || lr.Status != matchmaking.StatusLeft {
				t.Fatalf("final Leave(%s) = %+v, %v", u, lr, err)
			}
			left.Store(u, true)
		} else if st.Status != matchmaking.StatusMatched && st.Status != matchmaking.StatusNotQueued {
			t.Errorf("Status(%s) at the end = %+v", u, st)
		}
	}

	inPair := map[string]string{}
	sessions := map[string]bool{}
	for _, p := range f.rec.onPairCalls() {
		if sessions[p.SessionID] {
			t.Errorf("session %s started twice", p.SessionID)
		}
		sessions[p.SessionID] = true
		if p.Members[0].UserID == p.Members[1].UserID {
			t.Errorf("user %s paired with themself", p.Members[0].UserID)
		}
		for _, m := range p.Members {
			if s, ok := inPair[m.UserID]; ok {
				t.Errorf("user %s in pairs %s and %s", m.UserID, s, p.SessionID)
			}
			inPair[m.UserID] = p.SessionID
		}
	}
	for _, u := range ids {
		d, r := f.wallet.ledger(u)
		_, paired := inPair[u]
		_, refunded := left.Load(u)
		switch {
		case d != 1:
			t.Errorf("user %s: %d debits, want 1", u, d)
		case paired == refunded:
			t.Errorf("user %s: paired %v, refunded by Leave %v; want exactly one", u, paired, refunded)
		case paired && r != 0, refunded && r != 1:
			t.Errorf("user %s: paired %v with %d refunds", u, paired, r)
		}
	}
	f.wallet.check(t)
	if len(inPair) == 0 {
		t.Error("nobody was paired")
	}
}

// TestLeaveRacesPairing: many users leave while ticks pop them; each ends
// refunded or paired, never both, never neither.
func TestLeaveRacesPairing(t *testing.T) {
	for round := range 5 {
		f := newFixture(t, func(c *matchmaking.Config) { c.PairsPerTick = 1 })
		const users = 40
		ids := make([]string, users)
		for i := range ids {
			ids[i] = uuid.New()
			f.wallet.fund(ids[i], 1)
			f.join(ids[i], "eu", "")
		}
		var wg sync.WaitGroup
		results := make([]matchmaking.LeaveResult, users)
		start := make(chan struct{})
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				lr, err := f.svc.Leave(context.Background(), ids[i])
				if err != nil {
					t.Error(err)
				}
				results[i] = lr
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := f.svc.Tick(context.Background()); err != nil {
				t.Error(err)
			}
		}()
		close(start)
		wg.Wait()
		f.tick()
		inPair := map[string]bool{}
		for _, p := range f.rec.onPairCalls() {
			inPair[p.Members[0].UserID] = true
			inPair[p.Members[1].UserID] = true
		}
		for i, u := range ids {
			_, r := f.wallet.ledger(u)
			refunded := results[i].Status == matchmaking.StatusLeft && r == 1
			matched := results[i].Status == matchmaking.StatusAlreadyMatched
			if refunded == inPair[u] || matched != inPair[u] {
				t.Fatalf("round %d, user %d: Leave %+v, %d refunds, paired %v", round, i, results[i], r, inPair[u])
			}
		}
		f.wallet.check(t)
	}
}
