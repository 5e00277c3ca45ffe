package memory

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/moderation"
)

var (
	_ moderation.EventStore = (*ModerationEventStore)(nil)
	_ moderation.BanStore   = (*BanStore)(nil)
)

// ModerationEventStore is an in-memory moderation.EventStore: the logged
// violations of one process, kept until the process ends. Create one with
// NewModerationEventStore; it is safe for concurrent use.
type ModerationEventStore struct {
	mu     sync.Mutex
	events []moderation.Event // in insertion order
	byKey  map[[2]string]int  // (delivery key, user) → index
	byUser map[string][]int   // user → indexes, in insertion order
}

// NewModerationEventStore returns an empty ModerationEventStore.
func NewModerationEventStore() *ModerationEventStore {
	return &ModerationEventStore{byKey: make(map[[2]string]int), byUser: make(map[string][]int)}
}

func copyEvent(e moderation.Event) moderation.Event {
	e.Labels = slices.Clone(e.Labels)
	if e.Labels == nil {
		e.Labels = []string{}
	}
	return e
}

// Record implements moderation.EventStore. ReceivedAt is kept to the
// microsecond, in UTC, like store/postgres.
func (s *ModerationEventStore) Record(_ context.Context, e moderation.Event) (moderation.Event, bool, error) {
	if e.ID == "" || e.UserID == "" || e.DeliveryKey == "" {
		return moderation.Event{}, false, errors.New("memory: a moderation event needs an id, a user and a delivery key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{e.DeliveryKey, e.UserID}
	if i, ok := s.byKey[k]; ok {
		return copyEvent(s.events[i]), false, nil
	}
	e = copyEvent(e)
	e.ReceivedAt = e.ReceivedAt.Truncate(time.Microsecond).UTC()
	s.events = append(s.events, e)
	i := len(s.events) - 1
	s.byKey[k] = i
	s.byUser[e.UserID] = append(s.byUser[e.UserID], i)
	return copyEvent(e), true, nil
}

// CountSince implements moderation.EventStore.
func (s *ModerationEventStore) CountSince(_ context.Context, userID string, since time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, i := range s.byUser[userID] {
		if !s.events[i].ReceivedAt.Before(since) {
			n++
		}
	}
	return n, nil
}

// List implements moderation.EventStore: newest ReceivedAt first, the
// later recorded first among equal times. A limit of zero or less returns
// nothing.
func (s *ModerationEventStore) List(_ context.Context, userID string, limit int) ([]moderation.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var idx []int
	if userID == "" {
		idx = make([]int, len(s.events))
		for i := range idx {
			idx[i] = i
		}
	} else {
		idx = slices.Clone(s.byUser[userID])
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := s.events[b].ReceivedAt.Compare(s.events[a].ReceivedAt); c != 0 {
			return c
		}
		return b - a
	})
	out := make([]moderation.Event, 0, min(max(limit, 0), len(idx)))
	for _, i := range idx {
		if len(out) >= limit {
			break
		}
		out = append(out, copyEvent(s.events[i]))
	}
	return out, nil
}

// BanStore is an in-memory moderation.BanStore: bans and seen webhook
// deliveries, each forgotten once its time has passed by the store's
// clock. Create one with NewBanStore; it is safe for concurrent use.
// Expired entries are swept as new ones are written.
type BanStore struct {
	clock rv.Clock

	mu         sync.Mutex
	bans       map[string]time.Time // user → until
	deliveries map[string]time.Time // key → expiry
	sweeper    sweeper
}

// NewBanStore returns an empty BanStore that expires entries by clock (nil
// means rv.SystemClock).
func NewBanStore(clock rv.Clock) *BanStore {
	if clock == nil {
		clock = rv.SystemClock
	}
	return &BanStore{clock: clock, bans: make(map[string]time.Time), deliveries: make(map[string]time.Time)}
}

// Ban implements moderation.BanStore. until is kept to the millisecond,
// like store/redis; it must be after now.
func (s *BanStore) Ban(_ context.Context, userID string, until, now time.Time) (moderation.Ban, bool, error) {
	until = until.Truncate(time.Millisecond).UTC()
	if !until.After(now) {
		return moderation.Ban{}, false, errors.New("memory: a ban must end after now")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	if cur, ok := s.bans[userID]; ok && cur.After(now) {
		return moderation.Ban{UserID: userID, Until: cur}, false, nil
	}
	s.bans[userID] = until
	return moderation.Ban{UserID: userID, Until: until}, true, nil
}

// Get implements moderation.BanStore.
func (s *BanStore) Get(_ context.Context, userID string, now time.Time) (moderation.Ban, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.bans[userID]; ok && cur.After(now) {
		return moderation.Ban{UserID: userID, Until: cur}, true, nil
	}
	return moderation.Ban{}, false, nil
}

// Lift implements moderation.BanStore: it reports whether a ban was in
// force by the store's clock.
func (s *BanStore) Lift(_ context.Context, userID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.bans[userID]
	delete(s.bans, userID)
	return ok && cur.After(s.clock.Now()), nil
}

// SeeDelivery implements moderation.BanStore; the key is remembered for
// ttl by the store's clock.
func (s *BanStore) SeeDelivery(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("memory: delivery TTL must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep()
	now := s.clock.Now()
	if exp, ok := s.deliveries[key]; ok && now.Before(exp) {
		return false, nil
	}
	s.deliveries[key] = now.Add(ttl)
	return true, nil
}

// sweep drops the expired bans and deliveries when due. s.mu is held.
func (s *BanStore) sweep() {
	now := s.clock.Now()
	size := len(s.bans) + len(s.deliveries)
	if !s.sweeper.due(now, size) {
		return
	}
	for u, until := range s.bans {
		if !until.After(now) {
			delete(s.bans, u)
		}
	}
	for k, exp := range s.deliveries {
		if !now.Before(exp) {
			delete(s.deliveries, k)
		}
	}
	s.sweeper.done(now, len(s.bans)+len(s.deliveries))
}
