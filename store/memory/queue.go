package memory

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/rendezvous-go/rendezvous/matchmaking"
)

var _ matchmaking.Store = (*QueueStore)(nil)

// QueueStore is an in-memory matchmaking.Store. Create one with
// NewQueueStore; it is safe for concurrent use, and one mutex makes each
// method atomic.
//
// Each queue key keeps its waiting users in join order, and the store
// keeps the set of queue keys with two or more waiting users, so PopPairs
// costs in the pairs it makes, whatever the lone waiters. Times are kept
// to the millisecond, in UTC, as store/redis keeps them.
type QueueStore struct {
	mu      sync.Mutex
	seq     int64
	entries map[string]*queueEntry          // user id -> entry
	joining map[string]*queueEntry          // user id -> its StateJoining entry
	queues  map[string][]*queueEntry        // queue key -> waiting entries, by seq
	ready   map[string]struct{}             // queue keys with 2+ waiting entries
	pending map[string]*pendingPair         // session id -> pair being started
	sockets map[string]map[string]time.Time // user id -> socket id -> expiry
	notices map[string]matchmaking.Notice
	waiting int
}

// queueEntry is a stored entry and, while waiting, its join sequence.
type queueEntry struct {
	e   matchmaking.Entry
	seq int64
}

// pendingPair is a popped pair and the end of its lease.
type pendingPair struct {
	p     matchmaking.Pair
	until time.Time
}

// NewQueueStore returns an empty QueueStore.
func NewQueueStore() *QueueStore {
	return &QueueStore{
		entries: make(map[string]*queueEntry),
		joining: make(map[string]*queueEntry),
		queues:  make(map[string][]*queueEntry),
		ready:   make(map[string]struct{}),
		pending: make(map[string]*pendingPair),
		sockets: make(map[string]map[string]time.Time),
		notices: make(map[string]matchmaking.Notice),
	}
}

// Reserve implements matchmaking.Store. JoinedAt is kept to the
// millisecond; a zero JoinedAt stays zero.
func (s *QueueStore) Reserve(_ context.Context, e matchmaking.Entry) (matchmaking.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.entries[e.UserID]; ok {
		return old.e, false, nil
	}
	e.State = matchmaking.StateJoining
	e.SessionID = ""
	e.JoinedAt = millis(e.JoinedAt)
	qe := &queueEntry{e: e}
	s.entries[e.UserID] = qe
	s.joining[e.UserID] = qe
	return e, true, nil
}

// Activate implements matchmaking.Store.
func (s *QueueStore) Activate(_ context.Context, userID, debitKey string) (matchmaking.Entry, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	qe, ok := s.entries[userID]
	if !ok || qe.e.State != matchmaking.StateJoining || qe.e.DebitKey != debitKey {
		return matchmaking.Entry{}, 0, matchmaking.ErrEntryGone
	}
	delete(s.joining, userID)
	s.seq++
	qe.seq = s.seq
	qe.e.State = matchmaking.StateWaiting
	key := qe.e.QueueKey
	s.queues[key] = append(s.queues[key], qe)
	s.waiting++
	s.refreshReady(key)
	return qe.e, len(s.queues[key]) - 1, nil
}

// Discard implements matchmaking.Store.
func (s *QueueStore) Discard(_ context.Context, userID, debitKey string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	qe, ok := s.entries[userID]
	if !ok || qe.e.State != matchmaking.StateJoining || qe.e.DebitKey != debitKey {
		return false, nil
	}
	delete(s.entries, userID)
	delete(s.joining, userID)
	return true, nil
}

// Get implements matchmaking.Store.
func (s *QueueStore) Get(_ context.Context, userID string) (matchmaking.Entry, int, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	qe, ok := s.entries[userID]
	if !ok {
		return matchmaking.Entry{}, 0, false, nil
	}
	pos := 0
	if qe.e.State == matchmaking.StateWaiting {
		pos = s.index(qe)
	}
	return qe.e, pos, true, nil
}

// Remove implements matchmaking.Store.
func (s *QueueStore) Remove(_ context.Context, userID string) (matchmaking.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	qe, ok := s.entries[userID]
	if !ok {
		return matchmaking.Entry{}, false, nil
	}
	if qe.e.State != matchmaking.StateWaiting {
		return qe.e, false, nil
	}
	key := qe.e.QueueKey
	q := s.queues[key]
	i := s.index(qe)
	q = slices.Delete(q, i, i+1)
	if len(q) == 0 {
		delete(s.queues, key)
	} else {
		s.queues[key] = q
	}
	delete(s.entries, userID)
	s.waiting--
	s.refreshReady(key)
	return qe.e, true, nil
}

// StaleJoins implements matchmaking.Store.
func (s *QueueStore) StaleJoins(_ context.Context, before time.Time, limit int) ([]matchmaking.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before = millis(before)
	var out []matchmaking.Entry
	for _, qe := range s.joining {
		if qe.e.JoinedAt.Before(before) {
			out = append(out, qe.e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].JoinedAt.Equal(out[j].JoinedAt) {
			return out[i].JoinedAt.Before(out[j].JoinedAt)
		}
		return out[i].UserID < out[j].UserID
	})
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	return out, nil
}

// PopPairs implements matchmaking.Store. MatchedAt is now, to the
// millisecond.
func (s *QueueStore) PopPairs(_ context.Context, sessionIDs []string, now time.Time, lease time.Duration) ([]matchmaking.Pair, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now = millis(now)
	until := now.Add(ceilMillis(lease))
	var pairs []matchmaking.Pair
	for key := range s.ready {
		q := s.queues[key]
		for len(q) >= 2 && len(pairs) < len(sessionIDs) {
			sid := sessionIDs[len(pairs)]
			p := matchmaking.Pair{SessionID: sid, QueueKey: key, MatchedAt: now}
			for i, qe := range q[:2] {
				qe.e.State = matchmaking.StateMatched
				qe.e.SessionID = sid
				qe.seq = 0
				p.Members[i] = matchmaking.Member{UserID: qe.e.UserID, DebitKey: qe.e.DebitKey, JoinedAt: qe.e.JoinedAt}
			}
			q[0], q[1] = nil, nil
			q = q[2:]
			s.waiting -= 2
			s.pending[sid] = &pendingPair{p: p, until: until}
			pairs = append(pairs, p)
		}
		if len(q) == 0 {
			delete(s.queues, key)
		} else {
			s.queues[key] = q
		}
		s.refreshReady(key)
		if len(pairs) == len(sessionIDs) {
			break
		}
	}
	return pairs, nil
}

// ClaimStalePairs implements matchmaking.Store. Pairs come earliest
// lease end first.
func (s *QueueStore) ClaimStalePairs(_ context.Context, now time.Time, lease time.Duration, limit int) ([]matchmaking.Pair, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now = millis(now)
	var stale []*pendingPair
	for _, pp := range s.pending {
		if !pp.until.After(now) {
			stale = append(stale, pp)
		}
	}
	sort.Slice(stale, func(i, j int) bool {
		if !stale[i].until.Equal(stale[j].until) {
			return stale[i].until.Before(stale[j].until)
		}
		return stale[i].p.SessionID < stale[j].p.SessionID
	})
	if len(stale) > limit {
		stale = stale[:max(limit, 0)]
	}
	pairs := make([]matchmaking.Pair, 0, len(stale))
	for _, pp := range stale {
		pp.until = now.Add(ceilMillis(lease))
		pairs = append(pairs, pp.p)
	}
	return pairs, nil
}

// AckPair implements matchmaking.Store.
func (s *QueueStore) AckPair(_ context.Context, sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pp, ok := s.pending[sessionID]
	if !ok {
		return nil
	}
	delete(s.pending, sessionID)
	for _, m := range pp.p.Members {
		if qe, ok := s.entries[m.UserID]; ok && qe.e.State == matchmaking.StateMatched && qe.e.SessionID == sessionID {
			delete(s.entries, m.UserID)
		}
	}
	return nil
}

// Waiting implements matchmaking.Store.
func (s *QueueStore) Waiting(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting, nil
}

// TouchSocket implements matchmaking.Store.
func (s *QueueStore) TouchSocket(_ context.Context, userID, socketID string, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.sockets[userID]
	if m == nil {
		m = make(map[string]time.Time)
		s.sockets[userID] = m
	}
	m[socketID] = millis(expires)
	return nil
}

// DropSocket implements matchmaking.Store. It also forgets the user's
// sockets that expired.
func (s *QueueStore) DropSocket(_ context.Context, userID, socketID string, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sockets[userID], socketID)
	return s.live(userID, now, true), nil
}

// LiveSockets implements matchmaking.Store.
func (s *QueueStore) LiveSockets(_ context.Context, userID string, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live(userID, now, false), nil
}

// live counts userID's sockets present at now, deleting the expired
// ones when prune is set.
func (s *QueueStore) live(userID string, now time.Time, prune bool) int {
	now = millis(now)
	m := s.sockets[userID]
	n := 0
	for id, exp := range m {
		if exp.After(now) {
			n++
		} else if prune {
			delete(m, id)
		}
	}
	if len(m) == 0 {
		delete(s.sockets, userID)
	}
	return n
}

// PutNotice implements matchmaking.Store.
func (s *QueueStore) PutNotice(_ context.Context, userID string, n matchmaking.Notice) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notices[userID] = n
	return nil
}

// TakeNotice implements matchmaking.Store.
func (s *QueueStore) TakeNotice(_ context.Context, userID string) (matchmaking.Notice, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notices[userID]
	delete(s.notices, userID)
	return n, ok, nil
}

// index returns the place of waiting entry qe in its queue.
func (s *QueueStore) index(qe *queueEntry) int {
	q := s.queues[qe.e.QueueKey]
	i, _ := slices.BinarySearchFunc(q, qe.seq, func(x *queueEntry, seq int64) int {
		switch {
		case x.seq < seq:
			return -1
		case x.seq > seq:
			return 1
		}
		return 0
	})
	return i
}

// refreshReady keeps key in the ready set exactly while two or more users
// wait under it.
func (s *QueueStore) refreshReady(key string) {
	if len(s.queues[key]) >= 2 {
		s.ready[key] = struct{}{}
	} else {
		delete(s.ready, key)
	}
}

// ceilMillis rounds d up to whole milliseconds, as store/redis rounds a
// lease.
func ceilMillis(d time.Duration) time.Duration {
	if r := d % time.Millisecond; r != 0 {
		d += time.Millisecond - r
	}
	return d
}
