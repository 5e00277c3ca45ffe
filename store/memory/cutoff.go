package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
)

var _ auth.CutoffStore = (*CutoffStore)(nil)

// CutoffStore is an in-memory auth.CutoffStore: the access-token cut-off
// of each user, forgotten once its TTL has passed by the store's clock.
// Create one with NewCutoffStore; it is safe for concurrent use. Cut-offs
// whose TTL has passed are swept as new ones are set.
type CutoffStore struct {
	clock rv.Clock

	mu      sync.Mutex
	cutoffs map[string]authCutoff
	sweeper sweeper
}

type authCutoff struct {
	at        time.Time
	expiresAt time.Time
}

// NewCutoffStore returns an empty CutoffStore that expires cut-offs by
// clock (nil means rv.SystemClock).
func NewCutoffStore(clock rv.Clock) *CutoffStore {
	if clock == nil {
		clock = rv.SystemClock
	}
	return &CutoffStore{clock: clock, cutoffs: make(map[string]authCutoff)}
}

// SetCutoff implements auth.CutoffStore. t is kept to the millisecond; the
// cut-off lives ttl from now, or longer if an earlier call asked for
// longer.
func (s *CutoffStore) SetCutoff(_ context.Context, userID string, t time.Time, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("memory: cut-off TTL must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweep(now)
	c := authCutoff{at: authMillis(t), expiresAt: now.Add(ttl)}
	if old, ok := s.cutoffs[userID]; ok && now.Before(old.expiresAt) {
		if old.at.After(c.at) {
			c.at = old.at
		}
		if old.expiresAt.After(c.expiresAt) {
			c.expiresAt = old.expiresAt
		}
	}
	s.cutoffs[userID] = c
	return nil
}

// Cutoff implements auth.CutoffStore.
func (s *CutoffStore) Cutoff(_ context.Context, userID string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cutoffs[userID]
	if !ok || !s.clock.Now().Before(c.expiresAt) {
		return time.Time{}, nil
	}
	return c.at, nil
}

func (s *CutoffStore) sweep(now time.Time) {
	if !s.sweeper.due(now, len(s.cutoffs)) {
		return
	}
	for id, c := range s.cutoffs {
		if !now.Before(c.expiresAt) {
			delete(s.cutoffs, id)
		}
	}
	s.sweeper.done(now, len(s.cutoffs))
}
