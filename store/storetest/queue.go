package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/matchmaking"
)

// QueueHarness is one isolated matchmaking.Store under test. The Store
// methods take their times as arguments, so the cases need no clock.
type QueueHarness struct {
	// Store is the implementation under test, empty.
	Store matchmaking.Store
}

// RunQueue runs the matchmaking.Store conformance cases, each as a
// parallel subtest of t with a store from its own call of newHarness:
// every method's documented behaviour, FIFO order within a queue key, the
// ready set (a lone waiter stays across many pops; one call pops from
// many keys), the leases of stale joins and pending pairs, presence and
// notices, and concurrent joins, removes and pops in which every entry
// ends paired once or removed once.
func RunQueue(t *testing.T, newHarness func(t *testing.T) QueueHarness) {
	t.Helper()
	for _, c := range queueCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			c.run(&queueT{T: t, s: h.Store, ctx: context.Background()})
		})
	}
}

// queueT is the state of one case.
type queueT struct {
	*testing.T
	s   matchmaking.Store
	ctx context.Context
}

// queueEpoch is the time the cases start from; it has a sub-millisecond
// part, which stores drop.
var queueEpoch = time.Date(2026, 2, 14, 20, 0, 0, 123456789, time.UTC)

func qms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

func debitKey(userID string) string { return "queue:debit-" + userID }

// reserve reserves a joining entry for userID under key at at.
func (q *queueT) reserve(userID, key string, at time.Time) matchmaking.Entry {
	q.Helper()
	e, created, err := q.s.Reserve(q.ctx, matchmaking.Entry{
		UserID: userID, QueueKey: key, DebitKey: debitKey(userID),
		State: matchmaking.StateJoining, JoinedAt: at,
	})
	if err != nil || !created {
		q.Fatalf("Reserve(%s) = %+v, %v, %v; want created", userID, e, created, err)
	}
	return e
}

// join reserves and activates userIDs, in order, under key, which has
// nobody waiting yet.
func (q *queueT) join(key string, userIDs ...string) {
	q.Helper()
	for i, id := range userIDs {
		q.reserve(id, key, queueEpoch)
		q.wantJoin(key, id, i)
	}
}

func (q *queueT) get(userID string) (matchmaking.Entry, int, bool) {
	q.Helper()
	e, pos, ok, err := q.s.Get(q.ctx, userID)
	if err != nil {
		q.Fatalf("Get(%s): %v", userID, err)
	}
	return e, pos, ok
}

// wantWaiting checks userID waits under key at position pos.
func (q *queueT) wantWaiting(userID, key string, pos int) {
	q.Helper()
	e, got, ok := q.get(userID)
	if !ok || e.State != matchmaking.StateWaiting || e.QueueKey != key || got != pos {
		q.Fatalf("Get(%s) = %+v, %d, %v; want waiting in %s at %d", userID, e, got, ok, key, pos)
	}
}

func (q *queueT) wantNone(userID string) {
	q.Helper()
	if e, _, ok := q.get(userID); ok {
		q.Fatalf("Get(%s) = %+v; want no entry", userID, e)
	}
}

func (q *queueT) pop(n int, now time.Time, lease time.Duration) []matchmaking.Pair {
	q.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("session-%d-%d", now.UnixMilli(), i)
	}
	pairs, err := q.s.PopPairs(q.ctx, ids, now, lease)
	if err != nil {
		q.Fatalf("PopPairs(%d): %v", n, err)
	}
	if len(pairs) > n {
		q.Fatalf("PopPairs(%d) made %d pairs", n, len(pairs))
	}
	for i, p := range pairs {
		if p.SessionID != ids[i] {
			q.Fatalf("pair %d has session %q, want %q", i, p.SessionID, ids[i])
		}
		if !p.MatchedAt.Equal(qms(now)) {
			q.Fatalf("pair %d MatchedAt %v, want %v", i, p.MatchedAt, qms(now))
		}
	}
	return pairs
}

func (q *queueT) waiting() int {
	q.Helper()
	n, err := q.s.Waiting(q.ctx)
	if err != nil {
		q.Fatalf("Waiting: %v", err)
	}
	return n
}

func pairUsers(p matchmaking.Pair) [2]string {
	return [2]string{p.Members[0].UserID, p.Members[1].UserID}
}

var queueCases = []struct {
	name string
	run  func(q *queueT)
}{
	{"ReserveOnce", func(q *queueT) {
		e := q.reserve("u1", "eu:aaaaaaaaaaaa", queueEpoch)
		if e.State != matchmaking.StateJoining || e.UserID != "u1" || e.QueueKey != "eu:aaaaaaaaaaaa" || e.DebitKey != debitKey("u1") {
			q.Fatalf("reserved %+v", e)
		}
		got, pos, ok := q.get("u1")
		if !ok || pos != 0 || got.State != matchmaking.StateJoining || got.DebitKey != debitKey("u1") || !got.JoinedAt.Equal(qms(queueEpoch)) {
			q.Fatalf("Get = %+v, %d, %v", got, pos, ok)
		}
		// A second reserve, under any key, returns the entry unchanged.
		old, created, err := q.s.Reserve(q.ctx, matchmaking.Entry{UserID: "u1", QueueKey: "us:bbbbbbbbbbbb", DebitKey: "other", State: matchmaking.StateJoining, JoinedAt: queueEpoch.Add(time.Hour)})
		if err != nil || created || old.QueueKey != "eu:aaaaaaaaaaaa" || old.DebitKey != debitKey("u1") || old.State != matchmaking.StateJoining {
			q.Fatalf("second Reserve = %+v, %v, %v", old, created, err)
		}
		if q.waiting() != 0 {
			q.Fatalf("a joining entry counts as waiting")
		}
		// Also once activated.
		if _, _, err := q.s.Activate(q.ctx, "u1", debitKey("u1")); err != nil {
			q.Fatal(err)
		}
		old, created, err = q.s.Reserve(q.ctx, matchmaking.Entry{UserID: "u1", QueueKey: "eu:aaaaaaaaaaaa", DebitKey: "other", State: matchmaking.StateJoining, JoinedAt: queueEpoch})
		if err != nil || created || old.State != matchmaking.StateWaiting || old.DebitKey != debitKey("u1") {
			q.Fatalf("Reserve of a waiting user = %+v, %v, %v", old, created, err)
		}
	}},
	{"ConcurrentReserve", func(q *queueT) {
		var wg sync.WaitGroup
		var created atomic.Int32
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ok, err := q.s.Reserve(q.ctx, matchmaking.Entry{UserID: "u", QueueKey: "k:000000000000", DebitKey: fmt.Sprint("d", i), State: matchmaking.StateJoining, JoinedAt: queueEpoch})
				if err != nil {
					q.Error(err)
				}
				if ok {
					created.Add(1)
				}
			}()
		}
		wg.Wait()
		if created.Load() != 1 {
			q.Fatalf("%d of 50 concurrent reserves created the entry, want 1", created.Load())
		}
	}},
	{"Activate", func(q *queueT) {
		const key = "eu:aaaaaaaaaaaa"
		if _, _, err := q.s.Activate(q.ctx, "nobody", "x"); !errors.Is(err, matchmaking.ErrEntryGone) {
			q.Fatalf("Activate of no entry: %v, want ErrEntryGone", err)
		}
		q.reserve("a", key, queueEpoch)
		if _, _, err := q.s.Activate(q.ctx, "a", "wrong"); !errors.Is(err, matchmaking.ErrEntryGone) {
			q.Fatalf("Activate with another debit key: %v, want ErrEntryGone", err)
		}
		q.wantJoin(key, "a", 0)
		if _, _, err := q.s.Activate(q.ctx, "a", debitKey("a")); !errors.Is(err, matchmaking.ErrEntryGone) {
			q.Fatalf("second Activate: %v, want ErrEntryGone", err)
		}
		q.reserve("b", key, queueEpoch)
		q.reserve("c", "us:cccccccccccc", queueEpoch)
		q.wantJoin(key, "b", 1)
		q.wantJoin("us:cccccccccccc", "c", 0)
		q.wantWaiting("a", key, 0)
		q.wantWaiting("b", key, 1)
		if n := q.waiting(); n != 3 {
			q.Fatalf("Waiting = %d, want 3", n)
		}
	}},
	{"Discard", func(q *queueT) {
		q.reserve("a", "k:000000000000", queueEpoch)
		if ok, err := q.s.Discard(q.ctx, "a", "wrong"); err != nil || ok {
			q.Fatalf("Discard with another key = %v, %v", ok, err)
		}
		if ok, err := q.s.Discard(q.ctx, "nobody", "x"); err != nil || ok {
			q.Fatalf("Discard of no entry = %v, %v", ok, err)
		}
		if ok, err := q.s.Discard(q.ctx, "a", debitKey("a")); err != nil || !ok {
			q.Fatalf("Discard = %v, %v", ok, err)
		}
		q.wantNone("a")
		if ok, _ := q.s.Discard(q.ctx, "a", debitKey("a")); ok {
			q.Fatal("second Discard reported an entry")
		}
		// A waiting entry is not discarded.
		q.reserve("b", "k:000000000000", queueEpoch)
		q.wantJoin("k:000000000000", "b", 0)
		if ok, err := q.s.Discard(q.ctx, "b", debitKey("b")); err != nil || ok {
			q.Fatalf("Discard of a waiting entry = %v, %v", ok, err)
		}
		q.wantWaiting("b", "k:000000000000", 0)
		// The user may reserve again after a discard.
		q.reserve("a", "k:000000000000", queueEpoch)
	}},
	{"Remove", func(q *queueT) {
		const key = "eu:aaaaaaaaaaaa"
		if e, ok, err := q.s.Remove(q.ctx, "nobody"); err != nil || ok || e != (matchmaking.Entry{}) {
			q.Fatalf("Remove of no entry = %+v, %v, %v", e, ok, err)
		}
		q.reserve("j", key, queueEpoch)
		if e, ok, err := q.s.Remove(q.ctx, "j"); err != nil || ok || e.State != matchmaking.StateJoining {
			q.Fatalf("Remove of a joining entry = %+v, %v, %v", e, ok, err)
		}
		for i, id := range []string{"a", "b", "c", "d"} {
			q.reserve(id, key, queueEpoch)
			q.wantJoin(key, id, i)
		}
		e, ok, err := q.s.Remove(q.ctx, "b")
		if err != nil || !ok || e.UserID != "b" || e.DebitKey != debitKey("b") || e.QueueKey != key {
			q.Fatalf("Remove(b) = %+v, %v, %v", e, ok, err)
		}
		q.wantNone("b")
		q.wantWaiting("a", key, 0)
		q.wantWaiting("c", key, 1)
		q.wantWaiting("d", key, 2)
		if _, ok, _ := q.s.Remove(q.ctx, "b"); ok {
			q.Fatal("second Remove reported an entry")
		}
		if n := q.waiting(); n != 3 {
			q.Fatalf("Waiting = %d, want 3", n)
		}
		// A matched entry is not removed.
		pairs := q.pop(10, queueEpoch, time.Minute)
		if len(pairs) != 1 || pairUsers(pairs[0]) != [2]string{"a", "c"} {
			q.Fatalf("pairs %+v, want a with c", pairs)
		}
		e, ok, err = q.s.Remove(q.ctx, "a")
		if err != nil || ok || e.State != matchmaking.StateMatched || e.SessionID != pairs[0].SessionID {
			q.Fatalf("Remove of a matched entry = %+v, %v, %v", e, ok, err)
		}
		q.wantWaiting("d", key, 0)
	}},
	{"StaleJoins", func(q *queueT) {
		for i, id := range []string{"c", "a", "d", "b"} {
			q.reserve(id, "k:000000000000", queueEpoch.Add(time.Duration(i)*time.Second))
		}
		// An activated entry is no longer joining.
		q.wantJoin("k:000000000000", "d", 0)
		stale, err := q.s.StaleJoins(q.ctx, qms(queueEpoch).Add(3*time.Second), 10)
		if err != nil {
			q.Fatal(err)
		}
		var ids []string
		for _, e := range stale {
			if e.State != matchmaking.StateJoining || e.DebitKey != debitKey(e.UserID) {
				q.Fatalf("stale join %+v", e)
			}
			ids = append(ids, e.UserID)
		}
		if fmt.Sprint(ids) != "[c a]" {
			q.Fatalf("StaleJoins = %v, want [c a] (oldest first, before the bound)", ids)
		}
		if !stale[0].JoinedAt.Equal(qms(queueEpoch)) {
			q.Fatalf("JoinedAt %v, want %v", stale[0].JoinedAt, qms(queueEpoch))
		}
		stale, _ = q.s.StaleJoins(q.ctx, queueEpoch.Add(time.Hour), 2)
		if len(stale) != 2 || stale[0].UserID != "c" || stale[1].UserID != "a" {
			q.Fatalf("StaleJoins with limit 2 = %+v", stale)
		}
		if _, err := q.s.Discard(q.ctx, "c", debitKey("c")); err != nil {
			q.Fatal(err)
		}
		stale, _ = q.s.StaleJoins(q.ctx, queueEpoch.Add(time.Hour), 10)
		if len(stale) != 2 || stale[0].UserID != "a" || stale[1].UserID != "b" {
			q.Fatalf("StaleJoins after a discard = %+v", stale)
		}
		// Times count to the millisecond: a bound within the millisecond
		// of the oldest reserve is not after it.
		for _, at := range []time.Time{qms(queueEpoch), queueEpoch} {
			if stale, _ = q.s.StaleJoins(q.ctx, at, 10); len(stale) != 0 {
				q.Fatalf("StaleJoins(%v) = %+v, want none", at, stale)
			}
		}
		if stale, _ = q.s.StaleJoins(q.ctx, queueEpoch.Add(time.Hour), 0); len(stale) != 0 {
			q.Fatalf("StaleJoins with limit 0 = %+v", stale)
		}
	}},
	{"PopFIFO", func(q *queueT) {
		const key = "eu:aaaaaaaaaaaa"
		for i, id := range []string{"a", "b", "c", "d", "e"} {
			q.reserve(id, key, queueEpoch.Add(time.Duration(i)*time.Millisecond))
			q.wantJoin(key, id, i)
		}
		now := queueEpoch.Add(time.Minute)
		pairs := q.pop(10, now, time.Minute)
		if len(pairs) != 2 || pairUsers(pairs[0]) != [2]string{"a", "b"} || pairUsers(pairs[1]) != [2]string{"c", "d"} {
			q.Fatalf("pairs %+v, want (a b) (c d)", pairs)
		}
		for i, p := range pairs {
			if p.QueueKey != key {
				q.Fatalf("pair %d key %q", i, p.QueueKey)
			}
			for j, m := range p.Members {
				if m.DebitKey != debitKey(m.UserID) {
					q.Fatalf("member %+v debit key", m)
				}
				want := qms(queueEpoch.Add(time.Duration(2*i+j) * time.Millisecond))
				if !m.JoinedAt.Equal(want) {
					q.Fatalf("member %s JoinedAt %v, want %v", m.UserID, m.JoinedAt, want)
				}
				e, pos, ok := q.get(m.UserID)
				if !ok || e.State != matchmaking.StateMatched || e.SessionID != p.SessionID || pos != 0 {
					q.Fatalf("Get(%s) after the pop = %+v, %d, %v", m.UserID, e, pos, ok)
				}
			}
		}
		q.wantWaiting("e", key, 0)
		if n := q.waiting(); n != 1 {
			q.Fatalf("Waiting = %d, want 1", n)
		}
		if pairs := q.pop(10, now, time.Minute); len(pairs) != 0 {
			q.Fatalf("second pop made %+v", pairs)
		}
		q.reserve("f", key, queueEpoch)
		q.wantJoin(key, "f", 1)
		if pairs := q.pop(10, now, time.Minute); len(pairs) != 1 || pairUsers(pairs[0]) != [2]string{"e", "f"} {
			q.Fatalf("pop after f joined = %+v, want (e f)", pairs)
		}
		// Matched users may not reserve until their pair is acked.
		if e, created, _ := q.s.Reserve(q.ctx, matchmaking.Entry{UserID: "a", QueueKey: key, DebitKey: "again", State: matchmaking.StateJoining, JoinedAt: now}); created || e.State != matchmaking.StateMatched {
			q.Fatalf("Reserve of a matched user = %+v, %v", e, created)
		}
	}},
	{"LoneWaitersStay", func(q *queueT) {
		for i := range 50 {
			key := fmt.Sprintf("r%d:000000000000", i)
			q.reserve(fmt.Sprint("u", i), key, queueEpoch)
			q.wantJoin(key, fmt.Sprint("u", i), 0)
		}
		for i := range 100 {
			if pairs := q.pop(10, queueEpoch.Add(time.Duration(i)*time.Second), time.Minute); len(pairs) != 0 {
				q.Fatalf("pop %d paired lone waiters: %+v", i, pairs)
			}
		}
		if n := q.waiting(); n != 50 {
			q.Fatalf("Waiting = %d, want 50", n)
		}
		for i := range 50 {
			q.wantWaiting(fmt.Sprint("u", i), fmt.Sprintf("r%d:000000000000", i), 0)
		}
	}},
	{"PopManyKeys", func(q *queueT) {
		order := map[string][]string{}
		for k := range 20 {
			key := fmt.Sprintf("r%d:000000000000", k)
			for i := range 5 {
				id := fmt.Sprintf("u%d-%d", k, i)
				q.reserve(id, key, queueEpoch)
				q.wantJoin(key, id, i)
				order[key] = append(order[key], id)
			}
		}
		// 40 pairs are ready; take them in calls of 7.
		var all []matchmaking.Pair
		for i := 0; ; i++ {
			pairs := q.pop(7, queueEpoch.Add(time.Duration(i)*time.Second), time.Minute)
			all = append(all, pairs...)
			if len(pairs) < 7 {
				break
			}
		}
		if len(all) != 40 {
			q.Fatalf("%d pairs, want 40", len(all))
		}
		seen := map[string]bool{}
		sessions := map[string]bool{}
		for _, p := range all {
			if sessions[p.SessionID] {
				q.Fatalf("session %s given twice", p.SessionID)
			}
			sessions[p.SessionID] = true
			u := pairUsers(p)
			if u[0] == u[1] {
				q.Fatalf("user %s paired with themself", u[0])
			}
			for _, id := range u {
				if seen[id] {
					q.Fatalf("user %s in two pairs", id)
				}
				seen[id] = true
			}
			// FIFO within the key: each pair is the next two.
			want := order[p.QueueKey]
			if len(want) < 2 || want[0] != u[0] || want[1] != u[1] {
				q.Fatalf("pair %v of %s, want the head of %v", u, p.QueueKey, want)
			}
			order[p.QueueKey] = want[2:]
		}
		for key, left := range order {
			if len(left) != 1 {
				q.Fatalf("key %s has %v left, want one lone waiter", key, left)
			}
			q.wantWaiting(left[0], key, 0)
		}
		if n := q.waiting(); n != 20 {
			q.Fatalf("Waiting = %d, want 20", n)
		}
	}},
	{"ReadyAfterRemove", func(q *queueT) {
		const key = "eu:aaaaaaaaaaaa"
		q.reserve("a", key, queueEpoch)
		q.wantJoin(key, "a", 0)
		q.reserve("b", key, queueEpoch)
		q.wantJoin(key, "b", 1)
		if _, ok, err := q.s.Remove(q.ctx, "a"); err != nil || !ok {
			q.Fatalf("Remove(a) = %v, %v", ok, err)
		}
		if pairs := q.pop(5, queueEpoch, time.Minute); len(pairs) != 0 {
			q.Fatalf("pop after a left = %+v", pairs)
		}
		q.wantWaiting("b", key, 0)
		q.reserve("c", key, queueEpoch)
		q.wantJoin(key, "c", 1)
		if pairs := q.pop(5, queueEpoch, time.Minute); len(pairs) != 1 || pairUsers(pairs[0]) != [2]string{"b", "c"} {
			q.Fatalf("pop = %+v, want (b c)", pairs)
		}
		if pairs := q.pop(5, queueEpoch, time.Minute); len(pairs) != 0 {
			q.Fatalf("pop of an empty queue = %+v", pairs)
		}
		if pairs, err := q.s.PopPairs(q.ctx, nil, queueEpoch, time.Minute); err != nil || len(pairs) != 0 {
			q.Fatalf("PopPairs with no ids = %+v, %v", pairs, err)
		}
	}},
	{"AckPair", func(q *queueT) {
		const key = "eu:aaaaaaaaaaaa"
		q.join(key, "a", "b")
		pairs := q.pop(1, queueEpoch, time.Minute)
		if len(pairs) != 1 {
			q.Fatalf("pairs %+v", pairs)
		}
		if err := q.s.AckPair(q.ctx, "unknown"); err != nil {
			q.Fatalf("AckPair(unknown): %v", err)
		}
		q.wantMatched("a", pairs[0].SessionID)
		if err := q.s.AckPair(q.ctx, pairs[0].SessionID); err != nil {
			q.Fatal(err)
		}
		q.wantNone("a")
		q.wantNone("b")
		if stale, _ := q.s.ClaimStalePairs(q.ctx, queueEpoch.Add(time.Hour), time.Minute, 10); len(stale) != 0 {
			q.Fatalf("an acked pair is still pending: %+v", stale)
		}
		if err := q.s.AckPair(q.ctx, pairs[0].SessionID); err != nil {
			q.Fatalf("second AckPair: %v", err)
		}
		// The users may queue again, and a late ack of the old pair
		// leaves their new entries alone.
		q.join(key, "a", "b")
		second := q.pop(1, queueEpoch.Add(time.Second), time.Minute)
		if len(second) != 1 {
			q.Fatalf("second pop = %+v", second)
		}
		if err := q.s.AckPair(q.ctx, pairs[0].SessionID); err != nil {
			q.Fatal(err)
		}
		q.wantMatched("a", second[0].SessionID)
	}},
	{"ClaimStalePairs", func(q *queueT) {
		const key = "eu:aaaaaaaaaaaa"
		q.join(key, "a", "b", "c", "d", "e", "f")
		const lease = 10 * time.Second
		t0 := queueEpoch
		first := q.pop(1, t0, lease)
		second := q.pop(2, t0.Add(time.Second), lease)
		if len(first) != 1 || len(second) != 2 {
			q.Fatalf("pops %+v %+v", first, second)
		}
		claim := func(now time.Time, limit int) []string {
			q.Helper()
			pairs, err := q.s.ClaimStalePairs(q.ctx, now, lease, limit)
			if err != nil {
				q.Fatal(err)
			}
			var ids []string
			for _, p := range pairs {
				ids = append(ids, p.SessionID)
				var orig matchmaking.Pair
				for _, o := range append(first[:1:1], second...) {
					if o.SessionID == p.SessionID {
						orig = o
					}
				}
				if orig.SessionID == "" || orig.QueueKey != p.QueueKey || orig.Members != p.Members || !orig.MatchedAt.Equal(p.MatchedAt) {
					q.Fatalf("claimed %+v, popped as %+v", p, orig)
				}
			}
			return ids
		}
		if ids := claim(t0.Add(lease-time.Millisecond), 10); len(ids) != 0 {
			q.Fatalf("claimed %v before the lease ended", ids)
		}
		if ids := claim(t0.Add(lease), 10); fmt.Sprint(ids) != fmt.Sprint([]string{first[0].SessionID}) {
			q.Fatalf("claimed %v at the first lease's end, want %s", ids, first[0].SessionID)
		}
		// Re-leased: not claimed again until its new lease ends.
		if ids := claim(t0.Add(lease+time.Second), 1); len(ids) != 1 || ids[0] == first[0].SessionID {
			q.Fatalf("claimed %v, want one of the second pop", ids)
		}
		if ids := claim(t0.Add(lease+time.Second), 10); len(ids) != 1 || ids[0] == first[0].SessionID {
			q.Fatalf("claimed %v, want the other of the second pop", ids)
		}
		if ids := claim(t0.Add(2*lease-time.Millisecond), 10); len(ids) != 0 {
			q.Fatalf("claimed %v within the new leases", ids)
		}
		if err := q.s.AckPair(q.ctx, second[0].SessionID); err != nil {
			q.Fatal(err)
		}
		if ids := claim(t0.Add(time.Hour), 10); len(ids) != 2 {
			q.Fatalf("claimed %v after an ack, want the two unacked pairs", ids)
		}
		// Claimed members stay matched.
		q.wantMatched(first[0].Members[0].UserID, first[0].SessionID)
	}},
	{"Presence", func(q *queueT) {
		t0 := queueEpoch
		live := func(at time.Time) int {
			q.Helper()
			n, err := q.s.LiveSockets(q.ctx, "u", at)
			if err != nil {
				q.Fatal(err)
			}
			return n
		}
		if n := live(t0); n != 0 {
			q.Fatalf("LiveSockets of nobody = %d", n)
		}
		if err := q.s.TouchSocket(q.ctx, "u", "s1", t0.Add(30*time.Second)); err != nil {
			q.Fatal(err)
		}
		if err := q.s.TouchSocket(q.ctx, "u", "s2", t0.Add(10*time.Second)); err != nil {
			q.Fatal(err)
		}
		if err := q.s.TouchSocket(q.ctx, "other", "s1", t0.Add(time.Hour)); err != nil {
			q.Fatal(err)
		}
		if n := live(t0); n != 2 {
			q.Fatalf("LiveSockets = %d, want 2", n)
		}
		if n := live(t0.Add(10 * time.Second)); n != 1 {
			q.Fatalf("LiveSockets at s2's expiry = %d, want 1", n)
		}
		// A refresh moves the expiry.
		if err := q.s.TouchSocket(q.ctx, "u", "s2", t0.Add(time.Minute)); err != nil {
			q.Fatal(err)
		}
		if n := live(t0.Add(40 * time.Second)); n != 1 {
			q.Fatalf("LiveSockets after a refresh = %d, want 1", n)
		}
		if n, err := q.s.DropSocket(q.ctx, "u", "s2", t0); err != nil || n != 1 {
			q.Fatalf("DropSocket(s2) = %d, %v; want 1", n, err)
		}
		if n, err := q.s.DropSocket(q.ctx, "u", "unknown", t0.Add(30*time.Second)); err != nil || n != 0 {
			q.Fatalf("DropSocket after s1 expired = %d, %v; want 0", n, err)
		}
		if n, err := q.s.DropSocket(q.ctx, "u", "s1", t0); err != nil || n != 0 {
			q.Fatalf("DropSocket(s1) = %d, %v; want 0", n, err)
		}
		if n, _ := q.s.LiveSockets(q.ctx, "other", t0); n != 1 {
			q.Fatalf("another user's sockets: %d, want 1", n)
		}
	}},
	{"Notices", func(q *queueT) {
		if n, ok, err := q.s.TakeNotice(q.ctx, "u"); err != nil || ok {
			q.Fatalf("TakeNotice of nobody = %+v, %v, %v", n, ok, err)
		}
		if err := q.s.PutNotice(q.ctx, "u", matchmaking.Notice{Reason: "FIRST"}); err != nil {
			q.Fatal(err)
		}
		want := matchmaking.Notice{Reason: matchmaking.ReasonDisconnected, Refunded: true}
		if err := q.s.PutNotice(q.ctx, "u", want); err != nil {
			q.Fatal(err)
		}
		if n, ok, err := q.s.TakeNotice(q.ctx, "u"); err != nil || !ok || n != want {
			q.Fatalf("TakeNotice = %+v, %v, %v; want %+v", n, ok, err, want)
		}
		if _, ok, _ := q.s.TakeNotice(q.ctx, "u"); ok {
			q.Fatal("a notice was taken twice")
		}
	}},
	{"Concurrent", func(q *queueT) {
		// 200 users join under 3 keys, and some leave at once, while 4
		// poppers pop. Every user ends in exactly one pair or removed
		// once, and at most one lone waiter per key is left.
		const users = 200
		keys := []string{"a:000000000000", "b:000000000000", "c:000000000000"}
		var (
			mu      sync.Mutex
			paired  = map[string]string{} // user -> session
			removed = map[string]bool{}
			done    atomic.Bool
			wg      sync.WaitGroup
			poppers sync.WaitGroup
		)
		record := func(pairs []matchmaking.Pair) {
			mu.Lock()
			defer mu.Unlock()
			for _, p := range pairs {
				u := pairUsers(p)
				if u[0] == u[1] {
					q.Errorf("user %s paired with themself", u[0])
				}
				for _, id := range u {
					if s, ok := paired[id]; ok {
						q.Errorf("user %s in pairs %s and %s", id, s, p.SessionID)
					}
					paired[id] = p.SessionID
				}
			}
		}
		var sid atomic.Int64
		popOnce := func() int {
			ids := make([]string, 5)
			for i := range ids {
				ids[i] = fmt.Sprint("s", sid.Add(1))
			}
			pairs, err := q.s.PopPairs(q.ctx, ids, queueEpoch, time.Minute)
			if err != nil {
				q.Error(err)
				return 0
			}
			record(pairs)
			return len(pairs)
		}
		for range 4 {
			poppers.Add(1)
			go func() {
				defer poppers.Done()
				for !done.Load() {
					popOnce()
				}
			}()
		}
		for i := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprint("user-", i)
				key := keys[i%len(keys)]
				if _, ok, err := q.s.Reserve(q.ctx, matchmaking.Entry{UserID: id, QueueKey: key, DebitKey: debitKey(id), State: matchmaking.StateJoining, JoinedAt: queueEpoch}); err != nil || !ok {
					q.Errorf("Reserve(%s) = %v, %v", id, ok, err)
					return
				}
				if _, _, err := q.s.Activate(q.ctx, id, debitKey(id)); err != nil {
					q.Errorf("Activate(%s): %v", id, err)
					return
				}
				if rand.IntN(3) == 0 {
					e, ok, err := q.s.Remove(q.ctx, id)
					if err != nil {
						q.Error(err)
						return
					}
					if ok {
						mu.Lock()
						removed[id] = true
						mu.Unlock()
					} else if e.State != matchmaking.StateMatched {
						q.Errorf("Remove(%s) kept %+v", id, e)
					}
				}
			}()
		}
		wg.Wait()
		done.Store(true)
		poppers.Wait()
		for popOnce() > 0 {
		}
		mu.Lock()
		defer mu.Unlock()
		left := q.waiting()
		if left > len(keys) {
			q.Errorf("%d users left waiting, want at most one per key", left)
		}
		for id := range removed {
			if _, ok := paired[id]; ok {
				q.Errorf("user %s both removed and paired", id)
			}
		}
		if len(paired)+len(removed)+left != users {
			q.Errorf("%d paired + %d removed + %d waiting, want %d", len(paired), len(removed), left, users)
		}
		for id, s := range paired {
			q.wantMatched(id, s)
		}
	}},
}

// wantJoin activates userID's joining entry under key and checks it lands
// at pos.
func (q *queueT) wantJoin(key, userID string, pos int) {
	q.Helper()
	e, got, err := q.s.Activate(q.ctx, userID, debitKey(userID))
	if err != nil || e.State != matchmaking.StateWaiting || e.QueueKey != key || e.UserID != userID || e.DebitKey != debitKey(userID) || got != pos {
		q.Fatalf("Activate(%s) = %+v, %d, %v; want waiting in %s at %d", userID, e, got, err, key, pos)
	}
}

func (q *queueT) wantMatched(userID, sessionID string) {
	q.Helper()
	e, _, ok := q.get(userID)
	if !ok || e.State != matchmaking.StateMatched || e.SessionID != sessionID {
		q.Fatalf("Get(%s) = %+v, %v; want matched in %s", userID, e, ok, sessionID)
	}
}
