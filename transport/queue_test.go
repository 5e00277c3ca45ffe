package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

// socketCall is one socket hook call seen by fakeQueue.
type socketCall struct {
	userID, socketID string
	// live reports that the call's context was not canceled and had a
	// deadline.
	live bool
}

// joinCall is one Join seen by fakeQueue.
type joinCall struct {
	userID, region string
	prefs          json.RawMessage
}

// fakeQueue is a QueueService that records its calls. The result and
// error fields answer the REST calls; onConnected answers SocketConnected
// (nil: no notice); failRefresh and failDisconnect fail those hooks for a
// user.
type fakeQueue struct {
	recorder
	ttl time.Duration

	joinRes   matchmaking.JoinResult
	joinErr   error
	leaveRes  matchmaking.LeaveResult
	leaveErr  error
	statusRes matchmaking.StatusResult
	statusErr error
	joins     []joinCall

	onConnected    func(userID, socketID string) (*matchmaking.Notice, error)
	failRefresh    string
	failDisconnect string

	connected    []socketCall
	refreshes    map[string]int // socket id → calls
	disconnected map[string][]socketCall
	late         []string // sockets refreshed after their disconnect
}

func newFakeQueue() *fakeQueue {
	return &fakeQueue{ttl: 300 * time.Millisecond, refreshes: map[string]int{}, disconnected: map[string][]socketCall{}}
}

func liveContext(ctx context.Context) bool {
	_, ok := ctx.Deadline()
	return ok && ctx.Err() == nil
}

func (f *fakeQueue) Join(_ context.Context, userID, region string, prefs json.RawMessage) (res matchmaking.JoinResult, err error) {
	f.do(func() {
		f.joins = append(f.joins, joinCall{userID, region, prefs})
		res, err = f.joinRes, f.joinErr
	})
	return res, err
}

func (f *fakeQueue) Leave(_ context.Context, userID string) (res matchmaking.LeaveResult, err error) {
	f.read(func() { res, err = f.leaveRes, f.leaveErr })
	return res, err
}

func (f *fakeQueue) Status(_ context.Context, userID string) (res matchmaking.StatusResult, err error) {
	f.read(func() { res, err = f.statusRes, f.statusErr })
	return res, err
}

func (f *fakeQueue) SocketConnected(ctx context.Context, userID, socketID string) (n *matchmaking.Notice, err error) {
	f.do(func() {
		f.connected = append(f.connected, socketCall{userID, socketID, liveContext(ctx)})
		if f.onConnected != nil {
			n, err = f.onConnected(userID, socketID)
		}
	})
	return n, err
}

func (f *fakeQueue) SocketRefresh(ctx context.Context, userID, socketID string) (err error) {
	f.do(func() {
		f.refreshes[socketID]++
		if len(f.disconnected[socketID]) > 0 {
			f.late = append(f.late, socketID)
		}
		if userID == f.failRefresh {
			err = rv.ErrStoreUnavailable
		}
	})
	return err
}

func (f *fakeQueue) SocketDisconnected(ctx context.Context, userID, socketID string) (err error) {
	f.do(func() {
		f.disconnected[socketID] = append(f.disconnected[socketID], socketCall{userID, socketID, liveContext(ctx)})
		if userID == f.failDisconnect {
			err = errors.New("queue store exploded")
		}
	})
	return err
}

func (f *fakeQueue) PresenceTTL() time.Duration { return f.ttl }

func (f *fakeQueue) set(fn func()) { f.do(fn) }

func TestQueueREST(t *testing.T) {
	d := newDatingStack(t)
	q := d.Queue
	url := d.URL + "/queue"
	alice := bearerH("tok-alice")

	// Joining: 201 when queued, 200 when already queued.
	q.set(func() {
		q.joinRes = matchmaking.JoinResult{Status: matchmaking.StatusQueued, QueueKey: "eu", Position: 2}
	})
	r := do(t, "POST", url+"/join", `{"region":"eu","preferences":{"lang":"fr","age":[20,30]}}`, alice...)
	if r.Status != 201 || string(r.Body) != `{"status":"queued","queueKey":"eu","position":2}`+"\n" {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	q.set(func() { q.joinRes = matchmaking.JoinResult{Status: matchmaking.StatusAlreadyQueued, QueueKey: "eu"} })
	r = do(t, "POST", url+"/join", `{"region":" EU ","preferences":null}`, alice...)
	if r.Status != 200 || string(r.Body) != `{"status":"already_queued","queueKey":"eu","position":0}`+"\n" {
		t.Fatalf("join again: %d %s", r.Status, r.Body)
	}
	if r := do(t, "POST", url+"/join", `{"region":"us"}`, alice...); r.Status != 200 {
		t.Fatalf("join without preferences: %d %s", r.Status, r.Body)
	}
	// The region goes as sent (the service normalizes it), the
	// preferences raw, and null or absent preferences as nil.
	q.read(func() {
		want := []joinCall{{"alice", "eu", json.RawMessage(`{"lang":"fr","age":[20,30]}`)}, {"alice", " EU ", nil}, {"alice", "us", nil}}
		if len(q.joins) != len(want) {
			t.Fatalf("joins %+v", q.joins)
		}
		for i, w := range want {
			if g := q.joins[i]; g.userID != w.userID || g.region != w.region || string(g.prefs) != string(w.prefs) || (w.prefs == nil) != (g.prefs == nil) {
				t.Errorf("join %d: %+v %s, want %+v %s", i, g, g.prefs, w, w.prefs)
			}
		}
		q.joins = nil
	})

	// Bad bodies never reach the service.
	for _, tc := range []struct{ body, code string }{
		{"", "INVALID_REGION"},
		{`{}`, "INVALID_REGION"},
		{`{"region":null}`, "INVALID_REGION"},
		{`{"region":5}`, "INVALID_REGION"},
		{`{"region":["eu"]}`, "INVALID_REGION"},
		{`{"preferences":{}}`, "INVALID_REGION"},
		{`{"region":"eu","extra":1}`, "INVALID_BODY"},
		{`{"Region":"eu"}`, "INVALID_BODY"},
		{`{"region":"eu","region":"us"}`, "INVALID_BODY"},
		{`{"region":"eu","preferences":{"a":1,"a":2}}`, "INVALID_BODY"},
		{`{"region":"eu"`, "INVALID_BODY"},
		{`["eu"]`, "INVALID_BODY"},
		{`{"region":"eu"} {}`, "INVALID_BODY"},
	} {
		r := do(t, "POST", url+"/join", tc.body, alice...)
		if r.Status != 400 || r.errorBody(t).Code != tc.code {
			t.Errorf("join %s: %d %s, want 400 %s", tc.body, r.Status, r.Body, tc.code)
		}
	}
	wantError(t, do(t, "POST", url+"/join", `{"region":"eu"}`, append(alice, "Content-Type", "text/plain")...), 400, "INVALID_BODY")
	q.read(func() {
		if len(q.joins) != 0 {
			t.Fatalf("bad bodies reached the service: %+v", q.joins)
		}
	})

	// The service's errors keep their status and code.
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{billing.ErrInsufficientTokens, 402, "INSUFFICIENT_TOKENS"},
		{matchmaking.ErrAlreadyInSession, 409, "ALREADY_IN_SESSION"},
		{matchmaking.ErrInvalidPreferences, 400, "INVALID_PREFERENCES"},
		{matchmaking.ErrInvalidRegion.WithMessage("region must not be empty"), 400, "INVALID_REGION"},
		{rv.ErrStoreUnavailable, 503, "STORE_UNAVAILABLE"},
		{errors.New("boom"), 500, "UNKNOWN_ERROR"},
	} {
		q.set(func() { q.joinErr = tc.err })
		wantError(t, do(t, "POST", url+"/join", `{"region":"eu"}`, alice...), tc.status, tc.code)
	}

	// Leaving and the status.
	q.set(func() { q.leaveRes = matchmaking.LeaveResult{Status: matchmaking.StatusLeft, Refunded: true} })
	if r := do(t, "DELETE", url+"/leave", "", alice...); r.Status != 200 || string(r.Body) != `{"status":"left","refunded":true}`+"\n" {
		t.Fatalf("leave: %d %s", r.Status, r.Body)
	}
	q.set(func() {
		q.leaveRes = matchmaking.LeaveResult{Status: matchmaking.StatusAlreadyMatched, SessionID: "s1"}
	})
	if r := do(t, "DELETE", url+"/leave", "", alice...); r.Status != 200 || string(r.Body) != `{"status":"already_matched","refunded":false,"sessionId":"s1"}`+"\n" {
		t.Fatalf("leave when matched: %d %s", r.Status, r.Body)
	}
	pos := 0
	q.set(func() {
		q.statusRes = matchmaking.StatusResult{Status: matchmaking.StatusQueued, QueueKey: "eu", Position: &pos}
	})
	if r := do(t, "GET", url+"/status", "", alice...); r.Status != 200 || string(r.Body) != `{"status":"queued","queueKey":"eu","position":0}`+"\n" {
		t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	q.set(func() { q.statusRes = matchmaking.StatusResult{Status: matchmaking.StatusNotQueued} })
	if r := do(t, "GET", url+"/status", "", alice...); r.Status != 200 || string(r.Body) != `{"status":"not_queued"}`+"\n" {
		t.Fatalf("status when not queued: %d %s", r.Status, r.Body)
	}
	q.set(func() { q.leaveErr, q.statusErr = rv.ErrStoreUnavailable, matchmaking.ErrAlreadyInSession })
	wantError(t, do(t, "DELETE", url+"/leave", "", alice...), 503, "STORE_UNAVAILABLE")
	wantError(t, do(t, "GET", url+"/status", "", alice...), 409, "ALREADY_IN_SESSION")

	// Every route needs a valid access token.
	for _, rt := range [][2]string{{"POST", "/join"}, {"DELETE", "/leave"}, {"GET", "/status"}} {
		wantError(t, do(t, rt[0], url+rt[1], `{"region":"eu"}`), 401, "TOKEN_MISSING")
		wantError(t, do(t, rt[0], url+rt[1], `{"region":"eu"}`, bearerH("nope")...), 401, "TOKEN_INVALID")
		wantError(t, do(t, rt[0], url+rt[1], `{"region":"eu"}`, bearerH("expired")...), 401, "TOKEN_EXPIRED")
		wantError(t, do(t, rt[0], url+rt[1], `{"region":"eu"}`, bearerH("revoked")...), 401, "TOKEN_REVOKED")
	}
	// Other methods: 405 with the ones the path has.
	for _, tc := range [][3]string{{"GET", "/join", "OPTIONS, POST"}, {"POST", "/leave", "DELETE, OPTIONS"}, {"DELETE", "/status", "GET, HEAD, OPTIONS"}} {
		r := do(t, tc[0], url+tc[1], "", alice...)
		wantError(t, r, 405, "METHOD_NOT_ALLOWED")
		if r.Header.Get("Allow") != tc[2] {
			t.Errorf("%s %s: Allow %q, want %q", tc[0], tc[1], r.Header.Get("Allow"), tc[2])
		}
	}
}

// A Notice that SocketConnected returns goes, as queue:left, to the
// socket that connected, not to the user's other sockets nor to anybody
// else's.
func TestQueueNoticeToTheConnectingSocket(t *testing.T) {
	d := newDatingStack(t)
	q := d.Queue
	first, firstID := userSocket(t, d.stack, "/queue", "tok-bob")
	other, _ := userSocket(t, d.stack, "/queue", "tok-carol")
	settle(t, first, "/queue")
	settle(t, other, "/queue")

	var noticeFor string
	q.set(func() {
		q.onConnected = func(userID, socketID string) (*matchmaking.Notice, error) {
			if userID != "bob" || noticeFor != "" {
				return nil, nil
			}
			noticeFor = socketID
			return &matchmaking.Notice{Reason: matchmaking.ReasonDisconnected, Refunded: true}, nil
		}
	})
	second, secondID := userSocket(t, d.stack, "/queue", "tok-bob")
	raw, err := second.WaitEvent("/queue", matchmaking.EventLeft, wait)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"reason":"DISCONNECTED","refunded":true}` {
		t.Fatalf("queue:left %s", raw)
	}
	q.read(func() {
		if noticeFor != secondID {
			t.Fatalf("notice for socket %s, want %s", noticeFor, secondID)
		}
	})
	// Whatever was sent to the others before their ping's ack is there.
	for _, c := range []*siotest.Client{first, other, second} {
		settle(t, c, "/queue")
		if evs := c.Events("/queue"); len(evs) != 0 {
			t.Errorf("events %v, want none", evs)
		}
	}
	q.read(func() {
		seen := map[string]bool{}
		for _, c := range q.connected {
			if !c.live {
				t.Errorf("SocketConnected %+v without a live context with a deadline", c)
			}
			seen[c.socketID] = true
		}
		if len(q.connected) != 3 || !seen[firstID] || !seen[secondID] {
			t.Errorf("SocketConnected calls %+v", q.connected)
		}
	})
}

// A connected socket is refreshed every PresenceTTL/3 until it
// disconnects, then SocketDisconnected runs exactly once, with a live
// context, and no refresh follows it; failures are logged at WARN and
// leave the socket connected.
func TestQueuePresence(t *testing.T) {
	d := newDatingStack(t)
	q := d.Queue
	q.set(func() {
		q.failRefresh, q.failDisconnect = "dave", "dave"
		q.onConnected = func(userID, _ string) (*matchmaking.Notice, error) {
			if userID == "dave" {
				return nil, rv.ErrStoreUnavailable.WithMessage("queue store down")
			}
			return nil, nil
		}
	})
	witness, witnessID := userSocket(t, d.stack, "/queue", "tok-wit")
	erin, erinID := userSocket(t, d.stack, "/queue", "tok-erin")
	dave, daveID := userSocket(t, d.stack, "/queue", "tok-dave")

	// Refreshes run, for the failing socket too (its first one may write
	// the presence its connect could not).
	q.waitFor(t, "two refreshes of each socket", func() bool {
		return q.refreshes[witnessID] >= 2 && q.refreshes[erinID] >= 2 && q.refreshes[daveID] >= 2
	})
	d.Logs.waitLine(t, `"level":"WARN"`, `"step":"connect"`, `"code":"STORE_UNAVAILABLE"`, `"user":"dave"`, `"namespace":"/queue"`)
	d.Logs.waitLine(t, `"level":"WARN"`, `"step":"refresh"`, `"socket":"`+daveID+`"`)
	settle(t, dave, "/queue") // still connected

	erin.Close()
	dave.Close()
	q.waitFor(t, "the disconnects", func() bool {
		return len(q.disconnected[erinID]) > 0 && len(q.disconnected[daveID]) > 0
	})
	d.Logs.waitLine(t, `"level":"WARN"`, `"step":"disconnect"`, `"code":"UNKNOWN_ERROR"`, `"user":"dave"`)
	// Three more refresh periods of the witness: a stray timer would have
	// refreshed the closed sockets meanwhile.
	var base int
	q.read(func() { base = q.refreshes[witnessID] })
	q.waitFor(t, "three more refreshes of the witness", func() bool { return q.refreshes[witnessID] >= base+3 })
	q.read(func() {
		if len(q.late) != 0 {
			t.Errorf("refreshed after the disconnect: %v", q.late)
		}
		for _, id := range []string{erinID, daveID} {
			if calls := q.disconnected[id]; len(calls) != 1 || !calls[0].live {
				t.Errorf("SocketDisconnected calls for %s: %+v, want one with a live context", id, calls)
			}
		}
		if len(q.disconnected[witnessID]) != 0 {
			t.Errorf("the witness was disconnected")
		}
	})
	settle(t, witness, "/queue")
}

// Many sockets connect and close at once, while their timers fire: each
// gets exactly one SocketConnected and one SocketDisconnected, and no
// refresh after it.
func TestQueueSocketsConnectAndCloseConcurrently(t *testing.T) {
	d := newDatingStack(t)
	q := d.Queue
	const n = 24
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := siotest.Dial(context.Background(), d.URL, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			p, err := c.Connect("/queue", map[string]string{"token": fmt.Sprintf("tok-u%d", i%4)}, wait)
			if err != nil || p.Type != 0 {
				t.Errorf("connect: %v %s", err, p.Data)
				return
			}
			var sid struct{ SID string }
			_ = json.Unmarshal(p.Data, &sid)
			ids[i] = sid.SID
			// Stay for a refresh, then leave, half by closing the
			// connection and half by disconnecting the namespace.
			if !q.until(func() bool { return q.refreshes[sid.SID] >= 1 }) {
				t.Errorf("socket %s never refreshed", sid.SID)
				return
			}
			if i%2 == 0 {
				_ = c.Send("41/queue,")
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	q.waitFor(t, "every disconnect", func() bool {
		for _, id := range ids {
			if len(q.disconnected[id]) == 0 {
				return false
			}
		}
		return true
	})
	// Shut the server down: a socket disconnected twice would show now.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := d.T.SocketIO().Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	q.read(func() {
		if len(q.connected) != n {
			t.Errorf("%d SocketConnected calls, want %d", len(q.connected), n)
		}
		for _, id := range ids {
			if len(q.disconnected[id]) != 1 {
				t.Errorf("socket %s: %d SocketDisconnected calls", id, len(q.disconnected[id]))
			}
		}
		if len(q.late) != 0 {
			t.Errorf("refreshed after the disconnect: %v", q.late)
		}
	})
}

// Shutting the server down disconnects the sockets: each is reported
// gone once, with a context of its own.
func TestQueueShutdownReportsSockets(t *testing.T) {
	d := newDatingStack(t)
	_, a := userSocket(t, d.stack, "/queue", "tok-fay")
	_, b := userSocket(t, d.stack, "/queue", "tok-fay")
	d.Queue.waitFor(t, "both connected", func() bool { return len(d.Queue.connected) == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := d.T.SocketIO().Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	d.Queue.read(func() {
		for _, id := range []string{a, b} {
			if calls := d.Queue.disconnected[id]; len(calls) != 1 || !calls[0].live || calls[0].userID != "fay" {
				t.Errorf("socket %s: SocketDisconnected %+v", id, calls)
			}
		}
	})
}

// QueueModule checks its configuration.
func TestQueueModuleConfig(t *testing.T) {
	noTTL, shortTTL := newFakeQueue(), newFakeQueue()
	noTTL.ttl, shortTTL.ttl = 0, transport.MinQueuePresenceTTL-1
	for name, cfg := range map[string]transport.QueueConfig{
		"no service":       {Authenticator: datingTokens{}},
		"no authenticator": {Service: newFakeQueue()},
		"no presence TTL":  {Service: noTTL, Authenticator: datingTokens{}},
		"too short a TTL":  {Service: shortTTL, Authenticator: datingTokens{}},
	} {
		if _, err := transport.New(transport.Config{Modules: []transport.Module{transport.QueueModule(cfg)}, Broker: memory.NewBroker()}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	least := newFakeQueue()
	least.ttl = transport.MinQueuePresenceTTL
	if _, err := transport.New(transport.Config{Modules: []transport.Module{transport.QueueModule(transport.QueueConfig{Service: least, Authenticator: datingTokens{}})}, Broker: memory.NewBroker()}); err != nil {
		t.Errorf("the least TTL refused: %v", err)
	}
}
