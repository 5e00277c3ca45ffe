package matchmaking_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

func TestNewValidates(t *testing.T) {
	ok := func() matchmaking.Config {
		return matchmaking.Config{
			Store:  memory.NewQueueStore(),
			Debit:  func(context.Context, string, string) error { return nil },
			Refund: func(context.Context, string) error { return nil },
			OnPair: func(context.Context, matchmaking.Pair) error { return nil },
		}
	}
	svc, err := matchmaking.New(ok())
	if err != nil {
		t.Fatal(err)
	}
	cfg := svc.Config()
	if cfg.TickInterval != 500*time.Millisecond || cfg.DisconnectGrace != 10*time.Second || cfg.PresenceTTL != 30*time.Second ||
		cfg.JoinTimeout != time.Minute || cfg.PairLease != 10*time.Second || cfg.PairsPerTick != 1000 || svc.PresenceTTL() != 30*time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
	for name, edit := range map[string]func(*matchmaking.Config){
		"no store":      func(c *matchmaking.Config) { c.Store = nil },
		"no debit":      func(c *matchmaking.Config) { c.Debit = nil },
		"no refund":     func(c *matchmaking.Config) { c.Refund = nil },
		"no OnPair":     func(c *matchmaking.Config) { c.OnPair = nil },
		"fast tick":     func(c *matchmaking.Config) { c.TickInterval = 49 * time.Millisecond },
		"slow tick":     func(c *matchmaking.Config) { c.TickInterval = 61 * time.Second },
		"short TTL":     func(c *matchmaking.Config) { c.PresenceTTL = time.Millisecond },
		"short lease":   func(c *matchmaking.Config) { c.PairLease = -time.Second },
		"no pairs":      func(c *matchmaking.Config) { c.PairsPerTick = -1 },
		"too many":      func(c *matchmaking.Config) { c.PairsPerTick = matchmaking.MaxPairsPerTick + 1 },
		"short timeout": func(c *matchmaking.Config) { c.JoinTimeout = time.Millisecond },
	} {
		cfg := ok()
		edit(&cfg)
		if _, err := matchmaking.New(cfg); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
	for _, d := range []time.Duration{50 * time.Millisecond, 60 * time.Second} {
		cfg := ok()
		cfg.TickInterval = d
		if _, err := matchmaking.New(cfg); err != nil {
			t.Errorf("TickInterval %v: %v", d, err)
		}
	}
}

func TestJoinLeaveStatus(t *testing.T) {
	f := newFixture(t, nil)
	u, v := uuid.New(), uuid.New()
	f.wallet.fund(u, 5)
	f.wallet.fund(v, 5)
	if _, err := f.svc.Join(f.ctx, u, "eu!", nil); !errors.Is(err, matchmaking.ErrInvalidRegion) {
		t.Fatalf("bad region: %v", err)
	}
	if _, err := f.svc.Join(f.ctx, u, "eu", json.RawMessage(`{"a":{}}`)); !errors.Is(err, matchmaking.ErrInvalidPreferences) {
		t.Fatalf("bad preferences: %v", err)
	}
	if d, _ := f.wallet.ledger(u); d != 0 {
		t.Fatalf("a refused join debited %d", d)
	}
	res := f.join(u, " EU ", `{"b":2,"a":1}`)
	key, _ := matchmaking.QueueKey("eu", json.RawMessage(`{"a":1,"b":2}`))
	if res != (matchmaking.JoinResult{Status: matchmaking.StatusQueued, QueueKey: key, Position: 0}) {
		t.Fatalf("Join = %+v", res)
	}
	if res := f.join(v, "eu", `{"a":1,"b":2}`); res.Status != matchmaking.StatusQueued || res.Position != 1 {
		t.Fatalf("second user: %+v", res)
	}
	// Joining again, under any key, charges nothing.
	if res := f.join(v, "us", ""); res != (matchmaking.JoinResult{Status: matchmaking.StatusAlreadyQueued, QueueKey: key, Position: 1}) {
		t.Fatalf("Join again = %+v", res)
	}
	if d, _ := f.wallet.ledger(v); d != 1 {
		t.Fatalf("%d debits after joining twice, want 1", d)
	}
	st := f.status(v)
	if st.Status != matchmaking.StatusQueued || st.QueueKey != key || st.Position == nil || *st.Position != 1 {
		t.Fatalf("Status = %+v", st)
	}
	b, _ := json.Marshal(f.status(u))
	if string(b) != `{"status":"queued","queueKey":"`+key+`","position":0}` {
		t.Fatalf("Status JSON = %s", b)
	}
	lr, err := f.svc.Leave(f.ctx, u)
	if err != nil || lr != (matchmaking.LeaveResult{Status: matchmaking.StatusLeft, Refunded: true}) {
		t.Fatalf("Leave = %+v, %v", lr, err)
	}
	if d, r := f.wallet.ledger(u); d != 1 || r != 1 {
		t.Fatalf("ledger of u: %d debits, %d refunds", d, r)
	}
	if lr, _ := f.svc.Leave(f.ctx, u); lr != (matchmaking.LeaveResult{Status: matchmaking.StatusNotQueued}) {
		t.Fatalf("second Leave = %+v", lr)
	}
	if st := f.status(u); st != (matchmaking.StatusResult{Status: matchmaking.StatusNotQueued}) {
		t.Fatalf("Status after leave = %+v", st)
	}
	if st := f.status(v); *st.Position != 0 {
		t.Fatalf("v did not move up: %+v", st)
	}
	f.wallet.check(t)
}

func TestDoubleClickJoinDebitsOnce(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	f.wallet.fund(u, 10)
	var wg sync.WaitGroup
	results := make(chan matchmaking.JoinResult, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.svc.Join(f.ctx, u, "eu", nil)
			if err != nil {
				t.Error(err)
				return
			}
			results <- res
		}()
	}
	wg.Wait()
	close(results)
	queued := 0
	for res := range results {
		switch res.Status {
		case matchmaking.StatusQueued:
			queued++
		case matchmaking.StatusAlreadyQueued:
		default:
			t.Errorf("result %+v", res)
		}
	}
	if d, _ := f.wallet.ledger(u); d != 1 || queued != 1 {
		t.Fatalf("%d debits, %d queued results of 50 joins; want 1 and 1", d, queued)
	}
	f.wallet.check(t)
}

func TestJoinInsufficientTokens(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	_, err := f.svc.Join(f.ctx, u, "eu", nil)
	if rv.KindOf(err) != rv.KindPaymentRequired || rv.CodeOf(err) != "INSUFFICIENT_TOKENS" {
		t.Fatalf("Join without tokens: %v, want INSUFFICIENT_TOKENS (402)", err)
	}
	if _, _, ok, _ := f.store.Get(f.ctx, u); ok {
		t.Fatal("a refused join left an entry")
	}
	if st := f.status(u); st.Status != matchmaking.StatusNotQueued {
		t.Fatalf("Status = %+v", st)
	}
	// With a token, the user joins.
	f.wallet.fund(u, 1)
	if res := f.join(u, "eu", ""); res.Status != matchmaking.StatusQueued {
		t.Fatalf("Join = %+v", res)
	}
	f.wallet.check(t)
}

// A user the gate refuses (a ban) gets its error, is charged nothing and
// queued nowhere.
func TestJoinGate(t *testing.T) {
	banned := rv.E(rv.KindForbidden, "TEST_GATE_REFUSED", "refused by the gate")
	var refused string
	f := newFixture(t, func(c *matchmaking.Config) {
		c.Gate = func(_ context.Context, userID string) error {
			if userID == refused {
				return banned
			}
			return nil
		}
	})
	u, v := uuid.New(), uuid.New()
	refused = u
	f.wallet.fund(u, 1)
	f.wallet.fund(v, 1)
	if _, err := f.svc.Join(f.ctx, u, "eu", nil); !errors.Is(err, banned) {
		t.Fatalf("Join of a refused user: %v", err)
	}
	if d, _ := f.wallet.ledger(u); d != 0 {
		t.Fatal("a refused user was charged")
	}
	if st := f.status(u); st.Status != matchmaking.StatusNotQueued {
		t.Fatalf("Status = %+v", st)
	}
	if res := f.join(v, "eu", ""); res.Status != matchmaking.StatusQueued {
		t.Fatalf("Join of another user = %+v", res)
	}
}

func TestBusyUser(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	f.wallet.fund(u, 1)
	f.busy[u] = "session-1"
	if _, err := f.svc.Join(f.ctx, u, "eu", nil); !errors.Is(err, matchmaking.ErrAlreadyInSession) {
		t.Fatalf("Join while busy: %v", err)
	}
	if lr, _ := f.svc.Leave(f.ctx, u); lr != (matchmaking.LeaveResult{Status: matchmaking.StatusAlreadyMatched, SessionID: "session-1"}) {
		t.Fatalf("Leave while busy = %+v", lr)
	}
	if st := f.status(u); st != (matchmaking.StatusResult{Status: matchmaking.StatusMatched, SessionID: "session-1"}) {
		t.Fatalf("Status while busy = %+v", st)
	}
	if d, _ := f.wallet.ledger(u); d != 0 {
		t.Fatal("a busy user was charged")
	}
}

func TestPairing(t *testing.T) {
	f := newFixture(t, nil)
	users := make([]string, 5)
	for i := range users {
		users[i] = uuid.New()
		f.wallet.fund(users[i], 1)
	}
	for _, u := range users[:3] {
		f.join(u, "eu", `{"lang":"fr"}`)
	}
	f.join(users[3], "eu", `{"lang":"de"}`)
	f.join(users[4], "us", `{"lang":"fr"}`)
	if n := f.tick(); n != 1 {
		t.Fatalf("Tick made %d pairs, want 1", n)
	}
	pairs := f.rec.onPairCalls()
	if len(pairs) != 1 || pairs[0].Members[0].UserID != users[0] || pairs[0].Members[1].UserID != users[1] {
		t.Fatalf("OnPair saw %+v, want the first two of eu/fr", pairs)
	}
	p := pairs[0]
	events := f.rec.allEvents()
	if len(events) != 2 {
		t.Fatalf("events %+v", events)
	}
	for i, ev := range events {
		if ev.Namespace != matchmaking.Namespace || ev.Name != matchmaking.EventMatch || ev.Target != rv.UserTarget(users[i]) {
			t.Errorf("event %+v", ev)
		}
		var m map[string]any
		if err := json.Unmarshal(ev.Data, &m); err != nil || m["sessionId"] != p.SessionID || m["queueKey"] != p.QueueKey || len(m) != 3 {
			t.Errorf("match event data %s", ev.Data)
		}
		if strings.Contains(string(ev.Data), users[1-i]) {
			t.Errorf("the match event names the partner: %s", ev.Data)
		}
	}
	// The pair is acked: its users are in the session, no longer in the
	// queue.
	for _, u := range users[:2] {
		if st := f.status(u); st != (matchmaking.StatusResult{Status: matchmaking.StatusMatched, SessionID: p.SessionID}) {
			t.Errorf("Status of a started pair's member = %+v", st)
		}
		if _, _, ok, _ := f.store.Get(f.ctx, u); ok {
			t.Errorf("a started pair's member still has an entry")
		}
		if d, r := f.wallet.ledger(u); d != 1 || r != 0 {
			t.Errorf("paired user: %d debits, %d refunds", d, r)
		}
	}
	for _, u := range users[2:] {
		if st := f.status(u); st.Status != matchmaking.StatusQueued || *st.Position != 0 {
			t.Errorf("lone waiter %+v", st)
		}
	}
	f.wallet.check(t)
}

func TestLoneWaiterStays(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	f.wallet.fund(u, 1)
	f.join(u, "eu", "")
	for range 20 {
		if n := f.tick(); n != 0 {
			t.Fatalf("a lone waiter was paired")
		}
		f.clock.Advance(time.Second)
	}
	if st := f.status(u); st.Status != matchmaking.StatusQueued {
		t.Fatalf("Status after 20 ticks = %+v", st)
	}
	if d, r := f.wallet.ledger(u); d != 1 || r != 0 {
		t.Fatalf("%d debits, %d refunds", d, r)
	}
}

func TestSweepRefundsCrashedJoin(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	f.wallet.fund(u, 1)
	// A join whose process died after the debit, before the activation.
	const key = "queue:crashed"
	if _, _, err := f.store.Reserve(f.ctx, matchmaking.Entry{UserID: u, QueueKey: "eu:000000000000", DebitKey: key, State: matchmaking.StateJoining, JoinedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := f.wallet.Debit(f.ctx, u, key); err != nil {
		t.Fatal(err)
	}
	// Meanwhile the user's joins are answered already_queued, uncharged.
	if res := f.join(u, "eu", ""); res.Status != matchmaking.StatusAlreadyQueued || res.Position != 0 {
		t.Fatalf("Join during the stuck join = %+v", res)
	}
	f.clock.Advance(time.Minute - time.Millisecond)
	f.tick()
	if _, r := f.wallet.ledger(u); r != 0 {
		t.Fatal("refunded before JoinTimeout")
	}
	f.clock.Advance(2 * time.Millisecond)
	f.tick()
	if d, r := f.wallet.ledger(u); d != 1 || r != 1 {
		t.Fatalf("after the sweep: %d debits, %d refunds", d, r)
	}
	if _, _, ok, _ := f.store.Get(f.ctx, u); ok {
		t.Fatal("the stale join is still there")
	}
	// The user joins again with the refunded token.
	if res := f.join(u, "eu", ""); res.Status != matchmaking.StatusQueued {
		t.Fatalf("Join after the sweep = %+v", res)
	}
	f.wallet.check(t)
}

func TestJoinSweptDuringDebitRefunds(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	f.wallet.fund(u, 1)
	var svc *matchmaking.Service
	cfg := f.config()
	cfg.Debit = func(ctx context.Context, userID, key string) error {
		if err := f.wallet.Debit(ctx, userID, key); err != nil {
			return err
		}
		// The debit takes longer than JoinTimeout; another instance's
		// tick sweeps the reservation.
		f.clock.Advance(2 * time.Minute)
		if _, err := svc.Tick(ctx); err != nil {
			t.Error(err)
		}
		return nil
	}
	svc = f.service(cfg)
	if _, err := svc.Join(f.ctx, u, "eu", nil); !errors.Is(err, matchmaking.ErrEntryGone) {
		t.Fatalf("Join = %v, want ErrEntryGone", err)
	}
	if d, r := f.wallet.ledger(u); d != 1 || r != 1 {
		t.Fatalf("%d debits, %d refunds; want 1 and 1", d, r)
	}
	if st := f.status(u); st.Status != matchmaking.StatusNotQueued {
		t.Fatalf("Status = %+v", st)
	}
	f.wallet.check(t)
}

func TestJoinDebitErrorDiscards(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	f.wallet.fund(u, 1)
	boom := errors.New("wallet down")
	cfg := f.config()
	cfg.Debit = func(context.Context, string, string) error { return boom }
	svc := f.service(cfg)
	if _, err := svc.Join(f.ctx, u, "eu", nil); !errors.Is(err, boom) {
		t.Fatalf("Join = %v", err)
	}
	if _, _, ok, _ := f.store.Get(f.ctx, u); ok {
		t.Fatal("a failed debit left its reservation")
	}
}

func TestPairRedrivenAfterLease(t *testing.T) {
	f := newFixture(t, nil)
	var failing = true
	var mu sync.Mutex
	f.rec.fail = func(matchmaking.Pair) bool {
		mu.Lock()
		defer mu.Unlock()
		return failing
	}
	a, b := uuid.New(), uuid.New()
	f.wallet.fund(a, 1)
	f.wallet.fund(b, 1)
	f.join(a, "eu", "")
	f.join(b, "eu", "")
	if n := f.tick(); n != 1 {
		t.Fatalf("Tick made %d pairs", n)
	}
	first := f.rec.onPairCalls()
	if len(first) != 1 {
		t.Fatalf("OnPair calls %+v", first)
	}
	sid := first[0].SessionID
	// While the pair is pending, its users are matched.
	if st := f.status(a); st != (matchmaking.StatusResult{Status: matchmaking.StatusMatched, SessionID: sid}) {
		t.Fatalf("Status of a pending pair's member = %+v", st)
	}
	if lr, _ := f.svc.Leave(f.ctx, b); lr != (matchmaking.LeaveResult{Status: matchmaking.StatusAlreadyMatched, SessionID: sid}) {
		t.Fatalf("Leave of a pending pair's member = %+v", lr)
	}
	if _, err := f.svc.Join(f.ctx, a, "eu", nil); !errors.Is(err, matchmaking.ErrAlreadyInSession) {
		t.Fatalf("Join of a pending pair's member: %v", err)
	}
	f.clock.Advance(10*time.Second - time.Millisecond)
	f.tick()
	if n := len(f.rec.onPairCalls()); n != 1 {
		t.Fatalf("OnPair called %d times within the lease", n)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	f.clock.Advance(time.Millisecond)
	f.tick()
	calls := f.rec.onPairCalls()
	if len(calls) != 2 || calls[1].SessionID != sid || calls[1].Members != first[0].Members {
		t.Fatalf("OnPair calls %+v; want the same pair again", calls)
	}
	f.clock.Advance(time.Minute)
	f.tick()
	if n := len(f.rec.onPairCalls()); n != 2 {
		t.Fatalf("an acked pair was handed to OnPair again (%d calls)", n)
	}
	if _, _, ok, _ := f.store.Get(f.ctx, a); ok {
		t.Fatal("an acked pair's member still has an entry")
	}
	for _, u := range []string{a, b} {
		if d, r := f.wallet.ledger(u); d != 1 || r != 0 {
			t.Fatalf("%d debits, %d refunds", d, r)
		}
	}
}

func TestLeaveRefundRetriedByJob(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	f.wallet.fund(u, 1)
	f.join(u, "eu", "")
	f.wallet.setFailRefunds(100)
	lr, err := f.svc.Leave(f.ctx, u)
	if err != nil || lr != (matchmaking.LeaveResult{Status: matchmaking.StatusLeft, Refunded: true}) {
		t.Fatalf("Leave = %+v, %v", lr, err)
	}
	if _, r := f.wallet.ledger(u); r != 0 {
		t.Fatal("refunded though the wallet is down")
	}
	f.wallet.setFailRefunds(0)
	f.runDue()
	if d, r := f.wallet.ledger(u); d != 1 || r != 1 {
		t.Fatalf("after the refund job: %d debits, %d refunds", d, r)
	}
	f.wallet.check(t)

	// Without a scheduler, the error is returned.
	g := newFixture(t, func(c *matchmaking.Config) { c.Scheduler = nil })
	g.wallet.fund(u, 1)
	g.join(u, "eu", "")
	g.wallet.setFailRefunds(100)
	if _, err := g.svc.Leave(g.ctx, u); !errors.Is(err, errRefundDown) {
		t.Fatalf("Leave without a scheduler: %v", err)
	}
}

func TestGraceLeaveRefundsAndNotifies(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	f.wallet.fund(u, 1)
	if n, err := f.svc.SocketConnected(f.ctx, u, "s1"); err != nil || n != nil {
		t.Fatalf("SocketConnected = %v, %v", n, err)
	}
	if _, err := f.svc.SocketConnected(f.ctx, u, "s2"); err != nil {
		t.Fatal(err)
	}
	f.join(u, "eu", "")
	if err := f.svc.SocketDisconnected(f.ctx, u, "s1"); err != nil {
		t.Fatal(err)
	}
	// The grace job fires, finds s2 present (until PresenceTTL) and
	// leaves the user queued.
	f.clock.Advance(20 * time.Second)
	f.runDue()
	if st := f.status(u); st.Status != matchmaking.StatusQueued {
		t.Fatalf("a user with a socket left was taken out: %+v", st)
	}
	if err := f.svc.SocketDisconnected(f.ctx, u, "s2"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10*time.Second - time.Millisecond)
	f.runDue()
	if st := f.status(u); st.Status != matchmaking.StatusQueued {
		t.Fatalf("taken out before the grace ended: %+v", st)
	}
	f.clock.Advance(time.Millisecond)
	f.runDue()
	if st := f.status(u); st.Status != matchmaking.StatusNotQueued {
		t.Fatalf("still queued after the grace: %+v", st)
	}
	if d, r := f.wallet.ledger(u); d != 1 || r != 1 {
		t.Fatalf("%d debits, %d refunds", d, r)
	}
	n, err := f.svc.SocketConnected(f.ctx, u, "s3")
	if err != nil || n == nil || *n != (matchmaking.Notice{Reason: matchmaking.ReasonDisconnected, Refunded: true}) {
		t.Fatalf("SocketConnected after the grace = %+v, %v", n, err)
	}
	if b, _ := json.Marshal(n); string(b) != `{"reason":"DISCONNECTED","refunded":true}` {
		t.Fatalf("notice JSON %s", b)
	}
	if n, _ := f.svc.SocketConnected(f.ctx, u, "s4"); n != nil {
		t.Fatalf("the notice was delivered twice: %+v", n)
	}
	f.wallet.check(t)
}

func TestReloadInsideGraceKeepsPlace(t *testing.T) {
	f := newFixture(t, nil)
	other, b := uuid.New(), uuid.New()
	f.wallet.fund(other, 1)
	f.wallet.fund(b, 1)
	f.join(other, "eu", "")
	f.join(b, "eu", `{"x":1}`)
	if _, err := f.svc.SocketConnected(f.ctx, b, "old"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SocketDisconnected(f.ctx, b, "old"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Second)
	if n, err := f.svc.SocketConnected(f.ctx, b, "new"); err != nil || n != nil {
		t.Fatalf("reconnect = %v, %v", n, err)
	}
	f.clock.Advance(time.Minute)
	if err := f.svc.SocketRefresh(f.ctx, b, "new"); err != nil {
		t.Fatal(err)
	}
	f.runDue()
	for _, u := range []string{other, b} {
		if st := f.status(u); st.Status != matchmaking.StatusQueued || *st.Position != 0 {
			t.Fatalf("after a reload inside the grace: %+v", st)
		}
		if _, r := f.wallet.ledger(u); r != 0 {
			t.Fatal("refunded after a reload")
		}
	}
}

func TestCrashedInstanceSocketsExpire(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	f.wallet.fund(u, 1)
	f.join(u, "eu", "")
	if _, err := f.svc.SocketConnected(f.ctx, u, "s1"); err != nil {
		t.Fatal(err)
	}
	// The transport refreshes every PresenceTTL/3 while the instance lives.
	for range 6 {
		if err := f.svc.SocketRefresh(f.ctx, u, "s1"); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(10 * time.Second)
		f.runDue()
	}
	if st := f.status(u); st.Status != matchmaking.StatusQueued {
		t.Fatalf("a refreshed user was taken out: %+v", st)
	}
	// The instance dies: no refresh, no disconnect. The last refresh was
	// 10 s ago; the grace job fires PresenceTTL+DisconnectGrace after it.
	f.clock.Advance(30*time.Second - time.Millisecond)
	f.runDue()
	if st := f.status(u); st.Status != matchmaking.StatusQueued {
		t.Fatalf("taken out before the grace ended: %+v", st)
	}
	f.clock.Advance(time.Millisecond)
	f.runDue()
	if st := f.status(u); st.Status != matchmaking.StatusNotQueued {
		t.Fatalf("still queued after the crash: %+v", st)
	}
	if _, r := f.wallet.ledger(u); r != 1 {
		t.Fatal("not refunded")
	}

	// An instance that dies before the first refresh of a socket.
	v := uuid.New()
	f.wallet.fund(v, 1)
	f.join(v, "eu", "")
	if _, err := f.svc.SocketConnected(f.ctx, v, "s1"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(40 * time.Second)
	f.runDue()
	if st := f.status(v); st.Status != matchmaking.StatusNotQueued {
		t.Fatalf("still queued after a crash before any refresh: %+v", st)
	}
	if _, r := f.wallet.ledger(v); r != 1 {
		t.Fatal("not refunded")
	}
}

func TestRunTicksUntilDone(t *testing.T) {
	rec := &recorder{paired: make(chan matchmaking.Pair, 1)}
	w := newWallet()
	svc, err := matchmaking.New(matchmaking.Config{
		Store: memory.NewQueueStore(), Debit: w.Debit, Refund: w.Refund, OnPair: rec.OnPair,
		TickInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	for _, u := range []string{uuid.New(), uuid.New()} {
		w.fund(u, 1)
		if _, err := svc.Join(ctx, u, "eu", nil); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-rec.paired:
	case <-time.After(20 * time.Second):
		t.Fatal("Run made no pair")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestLostMatchEventDoesNotStopThePair(t *testing.T) {
	f := newFixture(t, func(c *matchmaking.Config) {
		c.Notifier = rv.NotifierFunc(func(context.Context, ...rv.Event) error { return errors.New("broker down") })
	})
	a, b := uuid.New(), uuid.New()
	f.wallet.fund(a, 1)
	f.wallet.fund(b, 1)
	f.join(a, "eu", "")
	f.join(b, "eu", "")
	if n := f.tick(); n != 1 || len(f.rec.onPairCalls()) != 1 {
		t.Fatalf("Tick made %d pairs, OnPair saw %d", n, len(f.rec.onPairCalls()))
	}
	if _, _, ok, _ := f.store.Get(f.ctx, a); ok {
		t.Fatal("the pair was not acked")
	}
}

func TestJoiningUserIsNotQueued(t *testing.T) {
	f := newFixture(t, nil)
	u := uuid.New()
	if _, _, err := f.store.Reserve(f.ctx, matchmaking.Entry{UserID: u, QueueKey: "eu:000000000000", DebitKey: "queue:x", State: matchmaking.StateJoining, JoinedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if st := f.status(u); st.Status != matchmaking.StatusNotQueued {
		t.Fatalf("Status of a joining user = %+v", st)
	}
	if lr, err := f.svc.Leave(f.ctx, u); err != nil || lr.Status != matchmaking.StatusNotQueued {
		t.Fatalf("Leave of a joining user = %+v, %v", lr, err)
	}
	if _, _, ok, _ := f.store.Get(f.ctx, u); !ok {
		t.Fatal("Leave took a joining entry")
	}
}

// OnTick is told of each tick of Run: the pairs made and who is left.
func TestRunOnTick(t *testing.T) {
	ticks := make(chan [2]int, 1000)
	w := newWallet()
	rec := &recorder{paired: make(chan matchmaking.Pair, 1)}
	svc, err := matchmaking.New(matchmaking.Config{
		Store: memory.NewQueueStore(), Debit: w.Debit, Refund: w.Refund, OnPair: rec.OnPair,
		TickInterval: 50 * time.Millisecond,
		OnTick: func(pairs, waiting int) {
			select {
			case ticks <- [2]int{pairs, waiting}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, u := range []string{uuid.New(), uuid.New(), uuid.New()} {
		w.fund(u, 1)
		if _, err := svc.Join(ctx, u, "eu", nil); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case got := <-ticks:
		if got != [2]int{1, 1} {
			t.Fatalf("first tick reported %v, want 1 pair and 1 waiting", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("OnTick was not called")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
