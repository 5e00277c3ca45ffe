package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/auth"
)

// RunCutoffs runs the auth.CutoffStore conformance cases, each as a
// parallel subtest of t with a store from its own call of newStore.
// newStore also returns a function that moves the store's time forward,
// or nil when it runs on real time, in which case the expiry case uses a
// short TTL and sleeps.
func RunCutoffs(t *testing.T, newStore func(t *testing.T) (auth.CutoffStore, func(time.Duration))) {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)
	get := func(t *testing.T, s auth.CutoffStore, user string) time.Time {
		t.Helper()
		c, err := s.Cutoff(ctx, user)
		if err != nil {
			t.Fatalf("Cutoff(%s): %v", user, err)
		}
		return c
	}
	set := func(t *testing.T, s auth.CutoffStore, user string, at time.Time, ttl time.Duration) {
		t.Helper()
		if err := s.SetCutoff(ctx, user, at, ttl); err != nil {
			t.Fatalf("SetCutoff(%s): %v", user, err)
		}
	}

	t.Run("NoneIsZero", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		if c := get(t, s, uuid()); !c.IsZero() {
			t.Errorf("Cutoff of a user without one = %v, want the zero time", c)
		}
	})

	t.Run("MillisecondPrecisionAndUsersIndependent", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		u1, u2 := uuid(), uuid()
		set(t, s, u1, base, 15*time.Minute)
		want := base.Truncate(time.Millisecond)
		if c := get(t, s, u1); !c.Equal(want) {
			t.Errorf("Cutoff = %v, want %v", c, want)
		}
		if c := get(t, s, u2); !c.IsZero() {
			t.Errorf("Cutoff of another user = %v, want zero", c)
		}
	})

	t.Run("EarlierDoesNotReplaceLater", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		u := uuid()
		set(t, s, u, base, 15*time.Minute)
		set(t, s, u, base.Add(-time.Second), 15*time.Minute)
		if c := get(t, s, u); !c.Equal(base.Truncate(time.Millisecond)) {
			t.Errorf("after an earlier cut-off: %v, want the later %v", c, base)
		}
		later := base.Add(1500 * time.Millisecond)
		set(t, s, u, later, 15*time.Minute)
		if c := get(t, s, u); !c.Equal(later.Truncate(time.Millisecond)) {
			t.Errorf("after a later cut-off: %v, want %v", c, later)
		}
	})

	t.Run("Expires", func(t *testing.T) {
		t.Parallel()
		s, advance := newStore(t)
		ttl := 15 * time.Minute
		if advance == nil {
			ttl = 300 * time.Millisecond
			advance = time.Sleep
		}
		u := uuid()
		set(t, s, u, base, ttl)
		advance(ttl / 2)
		if c := get(t, s, u); c.IsZero() {
			t.Fatal("cut-off gone before its TTL")
		}
		advance(ttl/2 + ttl/5)
		if c := get(t, s, u); !c.IsZero() {
			t.Errorf("cut-off %v still there after its TTL", c)
		}
	})
}
