package memory

import (
	"context"
	"sync"
	"time"

	"github.com/rendezvous-go/rendezvous/session"
)

var _ session.Store = (*SessionStore)(nil)

// SessionStore is an in-memory session.Store. Create one with
// NewSessionStore; it is safe for concurrent use. One mutex guards every
// session, so each method is atomic. Sessions are kept for the life of the
// process; times are returned in UTC, as they were given.
type SessionStore struct {
	mu       sync.Mutex
	sessions map[string]*storedSession
	live     map[string]map[*storedSession]struct{} // by user id: the live sessions
	seq      uint64
}

type storedSession struct {
	s   session.Session
	seq uint64 // order of creation, to break ties between equal CreatedAt
}

// NewSessionStore returns an empty SessionStore.
func NewSessionStore() *SessionStore {
	return &SessionStore{sessions: make(map[string]*storedSession), live: make(map[string]map[*storedSession]struct{})}
}

func utcSession(s session.Session) session.Session {
	s.CreatedAt, s.StartAt, s.EndAt = s.CreatedAt.UTC(), s.StartAt.UTC(), s.EndAt.UTC()
	if !s.EndedAt.IsZero() {
		s.EndedAt = s.EndedAt.UTC()
	}
	return s
}

// Create implements session.Store.
func (st *SessionStore) Create(_ context.Context, s session.Session) (session.Session, bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if prev, ok := st.sessions[s.ID]; ok {
		return prev.s, false, nil
	}
	st.seq++
	s = utcSession(s)
	stored := &storedSession{s: s, seq: st.seq}
	st.sessions[s.ID] = stored
	if s.Live() {
		for _, p := range s.Participants {
			if st.live[p.UserID] == nil {
				st.live[p.UserID] = make(map[*storedSession]struct{})
			}
			st.live[p.UserID][stored] = struct{}{}
		}
	}
	return s, true, nil
}

// Get implements session.Store.
func (st *SessionStore) Get(_ context.Context, id string) (session.Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s, ok := st.sessions[id]; ok {
		return s.s, nil
	}
	return session.Session{}, session.ErrSessionNotFound
}

// End implements session.Store.
func (st *SessionStore) End(_ context.Context, id string, reason session.EndReason, at time.Time) (session.Session, bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.sessions[id]
	if !ok {
		return session.Session{}, false, session.ErrSessionNotFound
	}
	if !s.s.Live() {
		return s.s, false, nil
	}
	s.s.EndedAt, s.s.EndReason = at.UTC(), reason
	for _, p := range s.s.Participants {
		delete(st.live[p.UserID], s)
		if len(st.live[p.UserID]) == 0 {
			delete(st.live, p.UserID)
		}
	}
	return s.s, true, nil
}

// Live implements session.Store.
func (st *SessionStore) Live(_ context.Context, userID string) (session.Session, bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var best *storedSession
	for s := range st.live[userID] {
		if best == nil || s.s.CreatedAt.After(best.s.CreatedAt) || s.s.CreatedAt.Equal(best.s.CreatedAt) && s.seq > best.seq {
			best = s
		}
	}
	if best == nil {
		return session.Session{}, false, nil
	}
	return best.s, true, nil
}
