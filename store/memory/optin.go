package memory

import (
	"context"
	"sync"
	"time"

	"github.com/rendezvous-go/rendezvous/optin"
)

var _ optin.Store = (*OptinStore)(nil)

// OptinStore is an in-memory optin.Store. Create one with NewOptinStore;
// it is safe for concurrent use. One mutex guards every window and match,
// so a window is resolved exactly once and a mutual outcome writes its
// Match in the same step. A pair of users has one live match at most (a
// match removed through ChatStore is gone, and the next mutual outcome
// makes a new one). Everything
// is kept for the life of the process; times are returned in UTC.
type OptinStore struct {
	mu      sync.Mutex
	windows map[string]*optin.Window            // by session id
	matches map[string]optin.Match              // by id
	pairs   map[[2]string]string                // sorted users → match id
	open    map[string]map[string]*optin.Window // by user id: the unresolved windows by session id
}

// NewOptinStore returns an empty OptinStore.
func NewOptinStore() *OptinStore {
	return &OptinStore{
		windows: make(map[string]*optin.Window),
		matches: make(map[string]optin.Match),
		pairs:   make(map[[2]string]string),
		open:    make(map[string]map[string]*optin.Window),
	}
}

// Open implements optin.Store.
func (s *OptinStore) Open(_ context.Context, w optin.Window) (optin.Window, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.windows[w.SessionID]; ok {
		return *prev, false, nil
	}
	stored := optin.Window{SessionID: w.SessionID, Users: w.Users, Deadline: w.Deadline.UTC()}
	s.windows[w.SessionID] = &stored
	for _, u := range stored.Users {
		if s.open[u] == nil {
			s.open[u] = make(map[string]*optin.Window)
		}
		s.open[u][stored.SessionID] = &stored
	}
	return stored, true, nil
}

// Get implements optin.Store.
func (s *OptinStore) Get(_ context.Context, sessionID string) (optin.Window, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.windows[sessionID]; ok {
		return *w, nil
	}
	return optin.Window{}, optin.ErrWindowNotFound
}

// Choose implements optin.Store.
func (s *OptinStore) Choose(_ context.Context, r optin.ChoiceRequest) (optin.Window, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.windows[r.SessionID]
	if !ok {
		return optin.Window{}, false, optin.ErrWindowNotFound
	}
	i := userIndex(*w, r.UserID)
	switch {
	case i < 0:
		return optin.Window{}, false, optin.ErrNotAParticipant
	case w.Choices[i] != "" && w.Choices[i] != r.Choice:
		return optin.Window{}, false, optin.ErrChoiceAlreadyMade
	case w.Resolved() || w.Choices[i] == r.Choice:
		return *w, false, nil
	case !r.Now.Before(w.Deadline):
		s.resolve(w, optin.NonMutual, "", r.Now)
		return *w, true, nil
	}
	w.Choices[i] = r.Choice
	switch {
	case w.Choices[1-i] == "":
		return *w, false, nil
	case w.Choices == [2]optin.Choice{optin.ChoiceMatch, optin.ChoiceMatch}:
		s.resolve(w, optin.Mutual, r.MatchID, r.Now)
	default:
		s.resolve(w, optin.NonMutual, "", r.Now)
	}
	return *w, true, nil
}

// resolve sets w's outcome; a mutual one makes the pair's Match with id
// matchID, or takes the one they have.
func (s *OptinStore) resolve(w *optin.Window, outcome optin.Outcome, matchID string, now time.Time) {
	w.Outcome, w.ResolvedAt = outcome, now.UTC()
	for _, u := range w.Users {
		delete(s.open[u], w.SessionID)
		if len(s.open[u]) == 0 {
			delete(s.open, u)
		}
	}
	if outcome != optin.Mutual {
		return
	}
	pair := w.Users
	if pair[1] < pair[0] {
		pair[0], pair[1] = pair[1], pair[0]
	}
	// pairs holds live matches only: a removed one is never taken again.
	if id, ok := s.pairs[pair]; ok {
		w.MatchID = id
		return
	}
	s.matches[matchID] = optin.Match{ID: matchID, Users: pair, SessionID: w.SessionID, CreatedAt: now.UTC()}
	s.pairs[pair] = matchID
	w.MatchID = matchID
}

func userIndex(w optin.Window, userID string) int {
	for i, u := range w.Users {
		if u == userID {
			return i
		}
	}
	return -1
}

// Expire implements optin.Store.
func (s *OptinStore) Expire(_ context.Context, sessionID string, now time.Time) (optin.Window, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.windows[sessionID]
	if !ok {
		return optin.Window{}, false, optin.ErrWindowNotFound
	}
	if w.Resolved() {
		return *w, false, nil
	}
	// Unresolved means at most one MATCH: missing choices as PASS make the
	// outcome non-mutual.
	s.resolve(w, optin.NonMutual, "", now)
	return *w, true, nil
}

// OpenFor implements optin.Store.
func (s *OptinStore) OpenFor(_ context.Context, userID string, now time.Time) (optin.Window, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.open[userID] {
		if w.Deadline.After(now) {
			return *w, true, nil
		}
	}
	return optin.Window{}, false, nil
}

// removeMatch removes the live match id (an unmatch, by ChatStore): it is
// no longer found, and the pair's next mutual outcome makes a new match.
// The caller holds s.mu.
func (s *OptinStore) removeMatch(id string) {
	m, ok := s.matches[id]
	if !ok {
		return
	}
	delete(s.matches, id)
	if s.pairs[m.Users] == id {
		delete(s.pairs, m.Users)
	}
}

// Match implements optin.Store.
func (s *OptinStore) Match(_ context.Context, id string) (optin.Match, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.matches[id]; ok {
		return m, nil
	}
	return optin.Match{}, optin.ErrMatchNotFound
}
