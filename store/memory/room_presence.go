package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rendezvous-go/rendezvous/rooms"
)

// sockExp is one presence entry of a user: the socket id and the entry's
// expiry in unix milliseconds.
type sockExp struct {
	socket string
	exp    int64
}

// The presence entries of a room are kept per user (room.presence), so
// that counting one user's entries costs that user's sockets, not the
// room's: a Touch is O(1) in the room's size and MembersAt O(members).

// liveSockets counts userID's entries live at ms (expiry after ms). s.mu
// must be held.
func (r *room) liveSockets(userID string, ms int64) int {
	n := 0
	for _, e := range r.presence[userID] {
		if e.exp > ms {
			n++
		}
	}
	return n
}

// allSockets counts userID's entries, live or not. s.mu must be held.
func (r *room) allSockets(userID string) int { return len(r.presence[userID]) }

// dropExpired removes userID's entries that are not live at ms. s.mu must
// be held.
func (r *room) dropExpired(userID string, ms int64) {
	es, ok := r.presence[userID]
	if !ok {
		return
	}
	es = slices.DeleteFunc(es, func(e sockExp) bool { return e.exp <= ms })
	r.setPresence(userID, es)
}

// setPresence stores userID's entries, dropping the user when none is
// left. s.mu must be held.
func (r *room) setPresence(userID string, es []sockExp) {
	if len(es) == 0 {
		delete(r.presence, userID)
		return
	}
	r.presence[userID] = es
}

func checkPresence(userID, socketID string, ttl time.Duration) error {
	if strings.Contains(userID, "|") {
		return fmt.Errorf("memory: user id %q may not contain '|'", userID)
	}
	if socketID == "" {
		return fmt.Errorf("memory: empty socket id")
	}
	if ttl <= 0 {
		return fmt.Errorf("memory: presence TTL must be positive, got %v", ttl)
	}
	return nil
}

// Touch implements rooms.Store. Entry expiry follows w.Now, the room's
// own expiry the store's clock.
func (s *RoomStore) Touch(_ context.Context, w rooms.Write, code, userID, socketID string, ttl time.Duration) (rooms.Member, bool, error) {
	if err := checkPresence(userID, socketID, ttl); err != nil {
		return rooms.Member{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweep(now)
	res := s.touchLocked(now, w.Now.UnixMilli(), code, userID, socketID, ttl)
	return res.Member, res.First, res.Err
}

// touchLocked writes one presence entry at ms (unix milliseconds) with
// ttl; now is the store clock's time. s.mu must be held.
func (s *RoomStore) touchLocked(now time.Time, ms int64, code, userID, socketID string, ttl time.Duration) rooms.TouchResult {
	r := s.lookup(code, now)
	if r == nil {
		return rooms.TouchResult{Err: rooms.ErrRoomNotFound}
	}
	_, m := r.member(userID)
	if m == nil {
		return rooms.TouchResult{Err: rooms.ErrMemberNotFound}
	}
	first := r.liveSockets(userID, ms) == 0
	if r.presence == nil {
		r.presence = make(map[string][]sockExp)
	}
	exp := ms + ttl.Milliseconds()
	es := slices.DeleteFunc(r.presence[userID], func(e sockExp) bool { return e.exp <= ms || e.socket == socketID })
	es = append(es, sockExp{socket: socketID, exp: exp})
	r.presence[userID] = es
	member := *m
	member.Sockets = r.liveSockets(userID, ms)
	return rooms.TouchResult{Member: member, HostID: r.room.HostID, First: first}
}

// TouchAll implements rooms.Store: the whole batch under one lock.
func (s *RoomStore) TouchAll(_ context.Context, w rooms.Write, ttl time.Duration, entries []rooms.PresenceEntry) ([]rooms.TouchResult, error) {
	for _, e := range entries {
		if err := checkPresence(e.UserID, e.SocketID, ttl); err != nil {
			return nil, err
		}
	}
	res := make([]rooms.TouchResult, len(entries))
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweep(now)
	ms := w.Now.UnixMilli()
	for i, e := range entries {
		res[i] = s.touchLocked(now, ms, e.Code, e.UserID, e.SocketID, ttl)
	}
	return res, nil
}

// Untouch implements rooms.Store.
func (s *RoomStore) Untouch(_ context.Context, w rooms.Write, code, userID, socketID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweep(now)
	r := s.lookup(code, now)
	if r == nil {
		return false, rooms.ErrRoomNotFound
	}
	ms := w.Now.UnixMilli()
	if es, ok := r.presence[userID]; ok {
		r.setPresence(userID, slices.DeleteFunc(es, func(e sockExp) bool { return e.socket == socketID }))
	}
	if r.liveSockets(userID, ms) > 0 {
		return false, nil
	}
	r.dropExpired(userID, ms)
	return true, nil
}

// SweepPresence implements rooms.Store.
func (s *RoomStore) SweepPresence(_ context.Context, code string, now time.Time) ([]string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clockNow := s.clock.Now()
	s.sweep(clockNow)
	r := s.lookup(code, clockNow)
	if r == nil {
		return nil, true, nil
	}
	ms := now.UnixMilli()
	var vanished []string
	for id, es := range r.presence {
		n := len(es)
		es = slices.DeleteFunc(es, func(e sockExp) bool { return e.exp <= ms })
		if len(es) == n {
			continue
		}
		r.setPresence(id, es)
		if _, m := r.member(id); m != nil && len(es) == 0 {
			vanished = append(vanished, id)
		}
	}
	slices.Sort(vanished)
	return vanished, false, nil
}

// MembersAt implements rooms.Store.
func (s *RoomStore) MembersAt(_ context.Context, code string, now time.Time) ([]rooms.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(code, s.clock.Now())
	if r == nil {
		return nil, rooms.ErrRoomNotFound
	}
	return r.membersAt(now.UnixMilli()), nil
}

// membersAt copies the members with their entries live at ms. s.mu must
// be held.
func (r *room) membersAt(ms int64) []rooms.Member {
	members := make([]rooms.Member, len(r.members))
	for i, m := range r.members {
		members[i] = *m
		members[i].Sockets = r.liveSockets(m.ID, ms)
	}
	return members
}

// Admit implements rooms.Store.
func (s *RoomStore) Admit(_ context.Context, code, userID string, now time.Time) (rooms.Room, []rooms.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(code, s.clock.Now())
	if r == nil {
		return rooms.Room{}, nil, rooms.ErrRoomNotFound
	}
	if _, m := r.member(userID); m == nil {
		return rooms.Room{}, nil, rooms.ErrMemberNotFound
	}
	return r.room, r.membersAt(now.UnixMilli()), nil
}
