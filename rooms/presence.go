package rooms

import (
	"context"
	"errors"
	"strconv"

	rv "github.com/rendezvous-go/rendezvous"
)

// SocketConnected records the presence of socket socketID of userID (live
// for Config.PresenceTTL, see Refresh) and tells the room
// (user:connected), once per socket. It returns the member as clients see
// it: ErrRoomNotFound or ErrMemberNotFound when there is no such member.
// It is one store call (Store.TouchAll, which also answers the host).
func (s *Service) SocketConnected(ctx context.Context, code, userID, socketID string) (User, error) {
	res, err := s.cfg.Store.TouchAll(ctx, s.write(), s.cfg.PresenceTTL, []PresenceEntry{{Code: code, UserID: userID, SocketID: socketID}})
	if err != nil {
		return User{}, err
	}
	if len(res) != 1 {
		return User{}, errors.New("rooms: Store.TouchAll answered a batch of one with " + strconv.Itoa(len(res)) + " results")
	}
	if res[0].Err != nil {
		return User{}, res[0].Err
	}
	u := res[0].Member.user(res[0].HostID)
	s.notify(ctx, rv.NewEvent(Namespace, TargetRoom(code), EventUserConnected, map[string]any{"user": u}))
	return u, nil
}

// Refresh keeps the presence of socket socketID of userID live for another
// Config.PresenceTTL. It publishes nothing, except when the socket's entry
// had already expired and the user had no other live socket (the instance
// stalled past PresenceTTL, and a sweep may have announced
// user:disconnected): the room then gets user:connected again. It returns
// ErrRoomNotFound when the room is gone (expired or closed: the socket
// should get room:closed, reason EXPIRED, and be disconnected) and
// ErrMemberNotFound when the user is no longer a member. RefreshAll does
// the same for many sockets in one store call; the transport uses it.
func (s *Service) Refresh(ctx context.Context, code, userID, socketID string) error {
	return s.RefreshAll(ctx, []PresenceEntry{{Code: code, UserID: userID, SocketID: socketID}})[0]
}

// RefreshAll is Refresh for a batch of sockets, of any rooms, with one
// store call (Store.TouchAll); the transport calls it every
// PresenceTTL/3 with all the sockets of its instance, in batches. The
// i-th error is entries[i]'s, as Refresh would return it: nil,
// ErrRoomNotFound, ErrMemberNotFound, or the store's failure (then the
// same for every entry). The user:connected events of the batch, if any,
// are published together.
func (s *Service) RefreshAll(ctx context.Context, entries []PresenceEntry) []error {
	errs := make([]error, len(entries))
	if len(entries) == 0 {
		return errs
	}
	res, err := s.cfg.Store.TouchAll(ctx, s.write(), s.cfg.PresenceTTL, entries)
	if err == nil && len(res) != len(entries) {
		err = errors.New("rooms: Store.TouchAll answered " + strconv.Itoa(len(entries)) + " entries with " + strconv.Itoa(len(res)) + " results")
	}
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	var evs []rv.Event
	for i, r := range res {
		errs[i] = r.Err
		if r.Err == nil && r.First {
			evs = append(evs, rv.NewEvent(Namespace, TargetRoom(entries[i].Code), EventUserConnected, map[string]any{"user": r.Member.user(r.HostID)}))
		}
	}
	if len(evs) > 0 {
		s.notify(ctx, evs...)
	}
	return errs
}

// RoomGone ends a room that a presence write of a socket found gone
// (ErrRoomNotFound from SocketConnected or Refresh), as Sweep and
// HandleExpiry do: if the room's TTL ran out, its sockets get room:closed
// (reason EXPIRED, with a disconnect) and expired is true. Otherwise the
// room was closed (Close, or the last Leave) and whoever closed it
// published its room:closed; nothing more is published. A socket that
// connected while its room was being closed thus gets the closer's reason
// (HOST_LEFT, HOST_CLOSED), not EXPIRED.
func (s *Service) RoomGone(ctx context.Context, code string) (expired bool, err error) {
	res, err := s.cfg.Store.ExpireRoom(ctx, s.write(), code)
	if err != nil {
		return false, err
	}
	if res.Expired {
		s.notify(ctx, s.closedEvent(code, ReasonExpired))
		return true, nil
	}
	return false, nil
}

// SocketDisconnected removes the presence of socket socketID of userID;
// when the user has no live socket left, the room gets user:disconnected.
// A user who is no longer a member (left, kicked) and a room that is gone
// are ignored.
func (s *Service) SocketDisconnected(ctx context.Context, code, userID, socketID string) error {
	last, err := s.cfg.Store.Untouch(ctx, s.write(), code, userID, socketID)
	if errors.Is(err, ErrRoomNotFound) {
		return nil
	}
	if err != nil || !last {
		return err
	}
	m, err := s.cfg.Store.Member(ctx, code, userID)
	if err != nil {
		return nil // no longer a member, or the room just went
	}
	room, err := s.cfg.Store.Room(ctx, code)
	if err != nil {
		return nil
	}
	u := m.user(room.HostID)
	u.IsConnected = false
	s.notify(ctx, rv.NewEvent(Namespace, TargetRoom(code), EventUserDisconnected, map[string]any{"user": u}))
	return nil
}

// Sweep removes the room's expired presence entries (sockets of crashed
// or stalled instances) and publishes user:disconnected for each member
// whose last socket they were; any number of instances may sweep the same
// room at once, each user is announced once. When the room is gone, it is
// ended as HandleExpiry would: if it expired (rather than being closed),
// its sockets get room:closed (reason EXPIRED) and are disconnected. The
// transport calls it every Config.PresenceTTL/2 for each room it has
// sockets in.
func (s *Service) Sweep(ctx context.Context, code string) error {
	vanished, gone, err := s.cfg.Store.SweepPresence(ctx, code, s.cfg.Clock.Now().UTC())
	if err != nil {
		return err
	}
	if gone {
		res, err := s.cfg.Store.ExpireRoom(ctx, s.write(), code)
		if err != nil {
			return err
		}
		if res.Expired {
			s.notify(ctx, s.closedEvent(code, ReasonExpired))
		}
		return nil
	}
	if len(vanished) == 0 {
		return nil
	}
	room, err := s.cfg.Store.Room(ctx, code)
	if err != nil {
		return nil // the room went meanwhile; its end is announced by its own path
	}
	members, err := s.cfg.Store.Members(ctx, code)
	if err != nil {
		return nil
	}
	byID := make(map[string]Member, len(members))
	for _, m := range members {
		byID[m.ID] = m
	}
	evs := make([]rv.Event, 0, len(vanished))
	for _, id := range vanished {
		m, ok := byID[id]
		if !ok {
			continue // left or kicked meanwhile
		}
		u := m.user(room.HostID)
		u.IsConnected = false
		evs = append(evs, rv.NewEvent(Namespace, TargetRoom(code), EventUserDisconnected, map[string]any{"user": u}))
	}
	if len(evs) > 0 {
		s.notify(ctx, evs...)
	}
	return nil
}
