package storetest

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/moderation"
)

// BanHarness is one isolated moderation.BanStore under test.
type BanHarness struct {
	// Store is the implementation under test, empty.
	Store moderation.BanStore
	// Now tells the store's time: the now the cases pass in. Nil means
	// time.Now.
	Now func() time.Time
	// Advance moves the store's time forward (the TTL of seen
	// deliveries), or is nil when the store runs on real time: the
	// expiry case then uses a short TTL and waits for the key to expire.
	Advance func(time.Duration)
}

// RunModeration runs RunModerationEvents with newEvents and RunBans with
// newBans, each as a subtest of t; a nil function skips its half (a store
// package implements one interface or both).
func RunModeration(t *testing.T, newEvents func(t *testing.T) moderation.EventStore, newBans func(t *testing.T) BanHarness) {
	t.Helper()
	if newEvents != nil {
		t.Run("Events", func(t *testing.T) { RunModerationEvents(t, newEvents) })
	}
	if newBans != nil {
		t.Run("Bans", func(t *testing.T) { RunBans(t, newBans) })
	}
}

func modEvent(user, key string, at time.Time) moderation.Event {
	return moderation.Event{
		ID: uuid(), UserID: user, SessionID: uuid(), Reason: "nudity",
		Labels: []string{"nudity", "explicit"}, Severity: "high",
		DeliveryKey: key, ReceivedAt: at,
	}
}

func sameModEvent(a, b moderation.Event) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.SessionID == b.SessionID && a.Reason == b.Reason &&
		slices.Equal(a.Labels, b.Labels) && a.Severity == b.Severity && a.ReceivedAt.Equal(b.ReceivedAt)
}

// RunModerationEvents runs the moderation.EventStore conformance cases,
// each as a parallel subtest of t with a store from its own call of
// newStore: fields kept (ReceivedAt to the microsecond, in UTC), one
// event per delivery key and user however often or concurrently it is
// recorded, CountSince from an inclusive bound, and List newest first,
// per user or of everyone, within its limit. Event ids are UUIDs.
func RunModerationEvents(t *testing.T, newStore func(t *testing.T) moderation.EventStore) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)
	record := func(t *testing.T, s moderation.EventStore, e moderation.Event) (moderation.Event, bool) {
		t.Helper()
		got, created, err := s.Record(ctx, e)
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
		return got, created
	}
	list := func(t *testing.T, s moderation.EventStore, user string, limit int) []moderation.Event {
		t.Helper()
		got, err := s.List(ctx, user, limit)
		if err != nil {
			t.Fatalf("List(%q, %d): %v", user, limit, err)
		}
		return got
	}

	t.Run("RecordKeepsFields", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		u := uuid()
		e := modEvent(u, uuid(), base.In(time.FixedZone("X", 3600)))
		got, created := record(t, s, e)
		if !created {
			t.Fatal("the first Record did not create the event")
		}
		want := e
		want.ReceivedAt = base.Truncate(time.Microsecond)
		if !sameModEvent(got, want) || got.ReceivedAt.Location() != time.UTC {
			t.Errorf("Record = %+v, want %+v in UTC", got, want)
		}
		l := list(t, s, u, 10)
		if len(l) != 1 || !sameModEvent(l[0], want) || l[0].ReceivedAt.Location() != time.UTC {
			t.Errorf("List = %+v, want [%+v]", l, want)
		}
		if l[0].DeliveryKey != "" && l[0].DeliveryKey != e.DeliveryKey {
			t.Errorf("DeliveryKey = %q, want %q or empty", l[0].DeliveryKey, e.DeliveryKey)
		}
		// No labels and no severity.
		e2 := modEvent(u, uuid(), base.Add(time.Second))
		e2.Labels, e2.Severity = nil, ""
		got, _ = record(t, s, e2)
		if len(got.Labels) != 0 || got.Severity != "" {
			t.Errorf("an event without labels or severity came back as %+v", got)
		}
	})

	t.Run("OnePerDeliveryAndUser", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		u1, u2, key := uuid(), uuid(), uuid()
		first, _ := record(t, s, modEvent(u1, key, base))
		again := modEvent(u1, key, base.Add(time.Minute))
		got, created := record(t, s, again)
		if created || got.ID != first.ID || !got.ReceivedAt.Equal(first.ReceivedAt) {
			t.Errorf("Record of the same delivery and user = %+v, %v; want the first %+v, false", got, created, first)
		}
		if _, created := record(t, s, modEvent(u2, key, base)); !created {
			t.Error("the same delivery for another user was not recorded")
		}
		if _, created := record(t, s, modEvent(u1, uuid(), base)); !created {
			t.Error("another delivery for the same user was not recorded")
		}
		if l := list(t, s, u1, 10); len(l) != 2 {
			t.Errorf("List = %d events, want 2", len(l))
		}
	})

	t.Run("ConcurrentRecordsOfOneDelivery", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		u, key := uuid(), uuid()
		const n = 30
		var (
			wg      sync.WaitGroup
			created atomic.Int32
			ids     = make([]string, n)
			errs    = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				got, c, err := s.Record(ctx, modEvent(u, key, base))
				ids[i], errs[i] = got.ID, err
				if c {
					created.Add(1)
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Record %d: %v", i, err)
			}
		}
		if created.Load() != 1 {
			t.Errorf("%d concurrent Records created %d events, want 1", n, created.Load())
		}
		for i := range ids {
			if ids[i] != ids[0] {
				t.Fatalf("Records returned different events: %q and %q", ids[0], ids[i])
			}
		}
		if c, err := s.CountSince(ctx, u, base.Add(-time.Hour)); err != nil || c != 1 {
			t.Errorf("CountSince = %d, %v; want 1", c, err)
		}
	})

	t.Run("CountSince", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		u, other := uuid(), uuid()
		at := base.Truncate(time.Microsecond)
		for i := range 3 {
			record(t, s, modEvent(u, uuid(), at.Add(time.Duration(i)*time.Hour)))
		}
		record(t, s, modEvent(other, uuid(), at.Add(5*time.Hour)))
		for _, c := range []struct {
			since time.Time
			want  int
		}{
			{at.Add(-time.Hour), 3},
			{at, 3},
			{at.Add(time.Microsecond), 2},
			{at.Add(2 * time.Hour), 1},
			{at.Add(3 * time.Hour), 0},
		} {
			if got, err := s.CountSince(ctx, u, c.since); err != nil || got != c.want {
				t.Errorf("CountSince(%v) = %d, %v; want %d", c.since, got, err, c.want)
			}
		}
		if got, err := s.CountSince(ctx, uuid(), at.Add(-time.Hour)); err != nil || got != 0 {
			t.Errorf("CountSince of a user without events = %d, %v; want 0", got, err)
		}
	})

	t.Run("ListNewestFirstWithinLimit", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		u1, u2 := uuid(), uuid()
		var want []string // newest first, across both users
		for i := range 5 {
			u := u1
			if i%2 == 1 {
				u = u2
			}
			e, _ := record(t, s, modEvent(u, uuid(), base.Add(time.Duration(i)*time.Minute)))
			want = append([]string{e.ID}, want...)
		}
		ids := func(es []moderation.Event) []string {
			out := make([]string, len(es))
			for i, e := range es {
				out[i] = e.ID
			}
			return out
		}
		if got := ids(list(t, s, u1, 10)); !slices.Equal(got, []string{want[0], want[2], want[4]}) {
			t.Errorf("List(u1) = %v, want %v", got, []string{want[0], want[2], want[4]})
		}
		if got := ids(list(t, s, u1, 2)); !slices.Equal(got, []string{want[0], want[2]}) {
			t.Errorf("List(u1, 2) = %v, want the newest two", got)
		}
		// Other tests may share the store's backing database: the events
		// of everyone include these five, in order.
		all := ids(list(t, s, "", 1000))
		var mine []string
		for _, id := range all {
			if slices.Contains(want, id) {
				mine = append(mine, id)
			}
		}
		if !slices.Equal(mine, want) {
			t.Errorf("List(\"\") holds %v of these, want %v", mine, want)
		}
		if got := list(t, s, uuid(), 10); len(got) != 0 {
			t.Errorf("List of a user without events = %v", got)
		}
	})
}

// RunBans runs the moderation.BanStore conformance cases, each as a
// parallel subtest of t with a store from its own call of newHarness: a
// ban in force is kept and returned rather than replaced, one ban of
// concurrent Bans, a ban over at its until (by the now passed in), Lift,
// and SeeDelivery's first time, under concurrent calls, until its TTL
// has passed. Until is kept to the millisecond, in UTC.
func RunBans(t *testing.T, newHarness func(t *testing.T) BanHarness) {
	t.Helper()
	ctx := context.Background()
	setup := func(t *testing.T) (moderation.BanStore, time.Time, BanHarness) {
		h := newHarness(t)
		now := time.Now
		if h.Now != nil {
			now = h.Now
		}
		return h.Store, now(), h
	}

	t.Run("BanGetLift", func(t *testing.T) {
		t.Parallel()
		s, now, _ := setup(t)
		u := uuid()
		if _, ok, err := s.Get(ctx, u, now); err != nil || ok {
			t.Fatalf("Get before any ban = %v, %v; want none", ok, err)
		}
		until := now.Add(time.Hour + 1234567*time.Nanosecond)
		b, created, err := s.Ban(ctx, u, until, now)
		want := moderation.Ban{UserID: u, Until: until.Truncate(time.Millisecond)}
		if err != nil || !created || b.UserID != u || !b.Until.Equal(want.Until) || b.Until.Location() != time.UTC {
			t.Fatalf("Ban = %+v, %v, %v; want %+v in UTC, true", b, created, err, want)
		}
		if g, ok, err := s.Get(ctx, u, now.Add(time.Minute)); err != nil || !ok || !g.Until.Equal(want.Until) || g.UserID != u {
			t.Errorf("Get = %+v, %v, %v; want %+v", g, ok, err, want)
		}
		if _, ok, _ := s.Get(ctx, uuid(), now); ok {
			t.Error("another user is banned too")
		}
		// A ban in force stays as it is.
		b, created, err = s.Ban(ctx, u, now.Add(48*time.Hour), now.Add(time.Minute))
		if err != nil || created || !b.Until.Equal(want.Until) {
			t.Errorf("Ban while banned = %+v, %v, %v; want the first ban, false", b, created, err)
		}
		if lifted, err := s.Lift(ctx, u); err != nil || !lifted {
			t.Errorf("Lift = %v, %v; want true", lifted, err)
		}
		if _, ok, err := s.Get(ctx, u, now); err != nil || ok {
			t.Errorf("Get after Lift = %v, %v; want none", ok, err)
		}
		if lifted, err := s.Lift(ctx, u); err != nil || lifted {
			t.Errorf("Lift again = %v, %v; want false", lifted, err)
		}
		if _, created, err := s.Ban(ctx, u, now.Add(time.Hour), now); err != nil || !created {
			t.Errorf("Ban after Lift = %v, %v; want a new ban", created, err)
		}
	})

	t.Run("BanOverAtUntil", func(t *testing.T) {
		t.Parallel()
		s, now, _ := setup(t)
		u := uuid()
		until := now.Add(time.Hour).Truncate(time.Millisecond)
		if _, _, err := s.Ban(ctx, u, until, now); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := s.Get(ctx, u, until.Add(-time.Millisecond)); !ok {
			t.Error("the ban is over before its until")
		}
		if _, ok, err := s.Get(ctx, u, until); err != nil || ok {
			t.Errorf("Get at until = %v, %v; want the ban over", ok, err)
		}
		later := until.Add(time.Minute)
		b, created, err := s.Ban(ctx, u, later.Add(time.Hour), later)
		if err != nil || !created || !b.Until.Equal(later.Add(time.Hour).Truncate(time.Millisecond)) {
			t.Errorf("Ban after the first one is over = %+v, %v, %v; want a new ban", b, created, err)
		}
		if _, _, err := s.Ban(ctx, uuid(), now, now); err == nil {
			t.Error("a ban ending at now was accepted")
		}
	})

	t.Run("ConcurrentBans", func(t *testing.T) {
		t.Parallel()
		s, now, _ := setup(t)
		u := uuid()
		const n = 30
		var (
			wg      sync.WaitGroup
			created atomic.Int32
			untils  = make([]time.Time, n)
			errs    = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				b, c, err := s.Ban(ctx, u, now.Add(time.Hour+time.Duration(i)*time.Second), now)
				untils[i], errs[i] = b.Until, err
				if c {
					created.Add(1)
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Ban %d: %v", i, err)
			}
		}
		if created.Load() != 1 {
			t.Errorf("%d concurrent Bans created %d, want 1", n, created.Load())
		}
		for i := range untils {
			if !untils[i].Equal(untils[0]) {
				t.Fatalf("Bans returned different untils: %v and %v", untils[0], untils[i])
			}
		}
	})

	t.Run("SeeDelivery", func(t *testing.T) {
		t.Parallel()
		s, _, _ := setup(t)
		k := uuid()
		if first, err := s.SeeDelivery(ctx, k, time.Hour); err != nil || !first {
			t.Fatalf("first SeeDelivery = %v, %v; want true", first, err)
		}
		if first, err := s.SeeDelivery(ctx, k, time.Hour); err != nil || first {
			t.Errorf("second SeeDelivery = %v, %v; want false", first, err)
		}
		if first, err := s.SeeDelivery(ctx, uuid(), time.Hour); err != nil || !first {
			t.Errorf("SeeDelivery of another key = %v, %v; want true", first, err)
		}
		if _, err := s.SeeDelivery(ctx, uuid(), 0); err == nil {
			t.Error("SeeDelivery with a zero TTL succeeded")
		}
		k2 := uuid()
		const n = 30
		var (
			wg    sync.WaitGroup
			first atomic.Int32
			errs  = make([]error, n)
		)
		for i := range n {
			wg.Go(func() {
				f, err := s.SeeDelivery(ctx, k2, time.Hour)
				errs[i] = err
				if f {
					first.Add(1)
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("SeeDelivery %d: %v", i, err)
			}
		}
		if first.Load() != 1 {
			t.Errorf("%d concurrent SeeDeliveries saw a first time %d times, want 1", n, first.Load())
		}
	})

	t.Run("DeliveryForgottenAfterTTL", func(t *testing.T) {
		t.Parallel()
		s, _, h := setup(t)
		k := uuid()
		ttl := time.Minute
		if h.Advance == nil {
			ttl = 50 * time.Millisecond
		}
		if first, err := s.SeeDelivery(ctx, k, ttl); err != nil || !first {
			t.Fatalf("SeeDelivery = %v, %v", first, err)
		}
		if h.Advance != nil {
			h.Advance(ttl - time.Millisecond)
			if first, err := s.SeeDelivery(ctx, k, ttl); err != nil || first {
				t.Fatalf("SeeDelivery before its TTL = %v, %v; want false", first, err)
			}
			h.Advance(time.Millisecond)
			if first, err := s.SeeDelivery(ctx, k, ttl); err != nil || !first {
				t.Errorf("SeeDelivery after its TTL = %v, %v; want true", first, err)
			}
			return
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			first, err := s.SeeDelivery(ctx, k, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if first {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the delivery was still remembered 10 s after its TTL")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
