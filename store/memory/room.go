package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/rooms"
)

var _ rooms.Store = (*RoomStore)(nil)

// RoomStore is an in-memory rooms.Store. Create one with NewRoomStore; it is
// safe for concurrent use.
//
// Members are kept in join order, so Members lists them longest-present
// first and the member that succeeds a leaving host is always the same
// one, even when several joined within the same millisecond.
type RoomStore struct {
	clock rv.Clock

	mu      sync.Mutex
	rooms   map[string]*room
	closed  map[string]time.Time // code -> until when a closed room is remembered
	sweeper sweeper
}

// room is one stored room; members are in join order.
type room struct {
	room      rooms.Room
	members   []*rooms.Member
	expiresAt time.Time
	// presence holds each user's presence entries (room_presence.go).
	presence map[string][]sockExp
}

func (r *room) member(userID string) (int, *rooms.Member) {
	for i, m := range r.members {
		if m.ID == userID {
			return i, m
		}
	}
	return -1, nil
}

// NewRoomStore returns an empty RoomStore whose rooms expire by clock (nil
// means rv.SystemClock).
func NewRoomStore(clock rv.Clock) *RoomStore {
	if clock == nil {
		clock = rv.SystemClock
	}
	return &RoomStore{clock: clock, rooms: make(map[string]*room), closed: make(map[string]time.Time)}
}

// Ping reports whether the store is ready, which it always is.
func (s *RoomStore) Ping(context.Context) error { return nil }

// CreateRoom implements rooms.Store. The room and host are stored as given,
// except that zero CreatedAt, UpdatedAt and JoinedAt become w.Now, an empty
// State becomes rooms.StateCreated.
func (s *RoomStore) CreateRoom(_ context.Context, w rooms.Write, r rooms.Room, host rooms.Member) error {
	if err := checkTTL(w); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweep(now)
	if s.lookup(r.Code, now) != nil {
		return rooms.ErrCodeTaken
	}
	r.CreatedAt = millis(stamp(r.CreatedAt, w.Now))
	r.UpdatedAt = millis(stamp(r.UpdatedAt, w.Now))
	if r.State == "" {
		r.State = rooms.StateCreated
	}
	host.JoinedAt = millis(stamp(host.JoinedAt, w.Now))
	delete(s.closed, r.Code)
	s.rooms[r.Code] = &room{room: r, members: []*rooms.Member{&host}, expiresAt: now.Add(w.TTL)}
	return nil
}

// Room implements rooms.Store.
func (s *RoomStore) Room(_ context.Context, code string) (rooms.Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(code, s.clock.Now())
	if r == nil {
		return rooms.Room{}, rooms.ErrRoomNotFound
	}
	return r.room, nil
}

// Members implements rooms.Store.
func (s *RoomStore) Members(_ context.Context, code string) ([]rooms.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(code, s.clock.Now())
	if r == nil {
		return nil, rooms.ErrRoomNotFound
	}
	members := make([]rooms.Member, len(r.members))
	for i, m := range r.members {
		members[i] = *m
		members[i].Sockets = r.allSockets(m.ID)
	}
	return members, nil
}

// Member implements rooms.Store.
func (s *RoomStore) Member(_ context.Context, code, userID string) (rooms.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(code, s.clock.Now())
	if r == nil {
		return rooms.Member{}, rooms.ErrRoomNotFound
	}
	_, m := r.member(userID)
	if m == nil {
		return rooms.Member{}, rooms.ErrMemberNotFound
	}
	member := *m
	member.Sockets = r.allSockets(userID)
	return member, nil
}

// Join implements rooms.Store. The member's JoinedAt is w.Now. Joining a
// room one is already a member of changes nothing but the room's expiry:
// the member keeps their place, and neither the lock nor the capacity is
// checked.
func (s *RoomStore) Join(_ context.Context, w rooms.Write, code string, m rooms.Member) (rooms.Room, error) {
	return s.write(w, code, func(r *room) error {
		if _, existing := r.member(m.ID); existing != nil {
			return nil
		}
		switch {
		case r.room.IsLocked:
			return rooms.ErrRoomLocked
		case len(r.members) >= r.room.MaxUsers:
			return rooms.ErrRoomFull
		}
		m.JoinedAt = millis(w.Now)
		r.members = append(r.members, &m)
		r.room.UpdatedAt = millis(w.Now)
		return nil
	})
}

// Leave implements rooms.Store.
func (s *RoomStore) Leave(_ context.Context, w rooms.Write, code, userID string, closeOnHostLeave bool) (rooms.LeaveResult, error) {
	if err := checkTTL(w); err != nil {
		return rooms.LeaveResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweep(now)
	r := s.lookup(code, now)
	if r == nil {
		return rooms.LeaveResult{}, rooms.ErrRoomNotFound
	}
	i, _ := r.member(userID)
	if i < 0 {
		return rooms.LeaveResult{}, rooms.ErrMemberNotFound
	}
	wasHost := r.room.HostID == userID
	if len(r.members) == 1 || (wasHost && closeOnHostLeave) {
		s.closeRoom(code, r)
		return rooms.LeaveResult{Closed: true}, nil
	}
	r.members = slices.Delete(r.members, i, i+1)
	if wasHost {
		r.room.HostID = r.members[0].ID
	}
	r.room.UpdatedAt = millis(w.Now)
	r.expiresAt = now.Add(w.TTL)
	return rooms.LeaveResult{Room: r.room, HostChanged: wasHost}, nil
}

// Kick implements rooms.Store.
func (s *RoomStore) Kick(_ context.Context, w rooms.Write, code, hostID, userID string) (rooms.Room, error) {
	return s.write(w, code, func(r *room) error {
		switch {
		case r.room.HostID != hostID:
			return rooms.ErrNotHost
		case userID == hostID:
			return rooms.ErrCannotKickSelf
		}
		i, _ := r.member(userID)
		if i < 0 {
			return rooms.ErrMemberNotFound
		}
		r.members = slices.Delete(r.members, i, i+1)
		r.room.UpdatedAt = millis(w.Now)
		return nil
	})
}

// ToggleLock implements rooms.Store.
func (s *RoomStore) ToggleLock(_ context.Context, w rooms.Write, code, hostID string) (rooms.Room, error) {
	return s.write(w, code, func(r *room) error {
		if r.room.HostID != hostID {
			return rooms.ErrNotHost
		}
		r.room.IsLocked = !r.room.IsLocked
		r.room.UpdatedAt = millis(w.Now)
		return nil
	})
}

// TransferHost implements rooms.Store.
func (s *RoomStore) TransferHost(_ context.Context, w rooms.Write, code, hostID, newHostID string) (rooms.Room, error) {
	return s.write(w, code, func(r *room) error {
		switch {
		case r.room.HostID != hostID:
			return rooms.ErrNotHost
		case newHostID == hostID:
			return rooms.ErrAlreadyHost
		}
		if _, m := r.member(newHostID); m == nil {
			return rooms.ErrMemberNotFound
		}
		r.room.HostID = newHostID
		r.room.UpdatedAt = millis(w.Now)
		return nil
	})
}

// Close implements rooms.Store.
func (s *RoomStore) Close(_ context.Context, code, hostID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.lookup(code, s.clock.Now())
	if r == nil {
		return rooms.ErrRoomNotFound
	}
	if r.room.HostID != hostID {
		return rooms.ErrNotHost
	}
	s.closeRoom(code, r)
	return nil
}

// closeRoom deletes room r and remembers it as closed until
// rooms.ClosedGrace after it would have expired. s.mu must be held.
func (s *RoomStore) closeRoom(code string, r *room) {
	delete(s.rooms, code)
	s.closed[code] = r.expiresAt.Add(rooms.ClosedGrace)
}

// ExpireRoom implements rooms.Store. Expiry follows the store's clock, so
// Due is the time on that clock at which the room expires.
func (s *RoomStore) ExpireRoom(_ context.Context, _ rooms.Write, code string) (rooms.ExpireResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweep(now)
	if r := s.lookup(code, now); r != nil {
		return rooms.ExpireResult{Due: r.expiresAt}, nil
	}
	if until, ok := s.closed[code]; ok && now.Before(until) {
		return rooms.ExpireResult{Closed: true}, nil
	}
	delete(s.closed, code)
	return rooms.ExpireResult{Expired: true}, nil
}

// write runs change on the room under the lock and, when change succeeds,
// renews the room's expiry and returns a copy of the room.
func (s *RoomStore) write(w rooms.Write, code string, change func(*room) error) (rooms.Room, error) {
	if err := checkTTL(w); err != nil {
		return rooms.Room{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.sweep(now)
	r := s.lookup(code, now)
	if r == nil {
		return rooms.Room{}, rooms.ErrRoomNotFound
	}
	if err := change(r); err != nil {
		return rooms.Room{}, err
	}
	r.expiresAt = now.Add(w.TTL)
	return r.room, nil
}

// lookup returns the live room with code, dropping it if it has expired.
// s.mu must be held.
func (s *RoomStore) lookup(code string, now time.Time) *room {
	r := s.rooms[code]
	if r != nil && !now.Before(r.expiresAt) {
		delete(s.rooms, code)
		return nil
	}
	return r
}

// sweep drops expired rooms when the sweeper says it is time. s.mu must be
// held.
func (s *RoomStore) sweep(now time.Time) {
	if !s.sweeper.due(now, len(s.rooms)+len(s.closed)) {
		return
	}
	for code, r := range s.rooms {
		if !now.Before(r.expiresAt) {
			delete(s.rooms, code)
		}
	}
	for code, until := range s.closed {
		if !now.Before(until) {
			delete(s.closed, code)
		}
	}
	s.sweeper.done(now, len(s.rooms)+len(s.closed))
}

func checkTTL(w rooms.Write) error {
	if w.TTL <= 0 {
		return fmt.Errorf("memory: Write.TTL must be positive, got %v", w.TTL)
	}
	return nil
}

// stamp returns t, or now when t is zero.
func stamp(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// millis returns t in UTC with millisecond precision, as store/redis keeps
// times.
func millis(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }
