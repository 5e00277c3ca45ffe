package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rendezvous-go/rendezvous/rooms"
)

// socketKey names one presence entry of a room.
type socketKey struct{ user, socket string }

// liveSockets counts userID's entries live at now (expiry after now). s.mu
// must be held.
func (r *room) liveSockets(userID string, now time.Time) int {
	n := 0
	for k, exp := range r.presence {
		if k.user == userID && exp.After(now) {
			n++
		}
	}
	return n
}

// allSockets counts userID's entries, live or not. s.mu must be held.
func (r *room) allSockets(userID string) int {
	n := 0
	for k := range r.presence {
		if k.user == userID {
			n++
		}
	}
	return n
}

// dropExpired removes userID's entries that are not live at now. s.mu must
// be held.
func (r *room) dropExpired(userID string, now time.Time) {
	for k, exp := range r.presence {
		if k.user == userID && !exp.After(now) {
			delete(r.presence, k)
		}
	}
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
	r := s.lookup(code, now)
	if r == nil {
		return rooms.Member{}, false, rooms.ErrRoomNotFound
	}
	_, m := r.member(userID)
	if m == nil {
		return rooms.Member{}, false, rooms.ErrMemberNotFound
	}
	at := millis(w.Now)
	first := r.liveSockets(userID, at) == 0
	r.dropExpired(userID, at)
	if r.presence == nil {
		r.presence = make(map[socketKey]time.Time)
	}
	r.presence[socketKey{userID, socketID}] = at.Add(ttl.Truncate(time.Millisecond))
	member := *m
	member.Sockets = r.liveSockets(userID, at)
	return member, first, nil
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
	at := millis(w.Now)
	delete(r.presence, socketKey{userID, socketID})
	if r.liveSockets(userID, at) > 0 {
		return false, nil
	}
	r.dropExpired(userID, at)
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
	at := millis(now)
	var gone []string
	for k, exp := range r.presence {
		if !exp.After(at) {
			delete(r.presence, k)
			if !slices.Contains(gone, k.user) {
				gone = append(gone, k.user)
			}
		}
	}
	var vanished []string
	for _, id := range gone {
		if _, m := r.member(id); m != nil && r.allSockets(id) == 0 {
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
	at := millis(now)
	members := make([]rooms.Member, len(r.members))
	for i, m := range r.members {
		members[i] = *m
		members[i].Sockets = r.liveSockets(m.ID, at)
	}
	return members, nil
}
