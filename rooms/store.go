package rooms

import (
	"context"
	"time"
)

// Write carries what every mutating Store call needs: the time to stamp
// (UpdatedAt, JoinedAt) and the TTL that every key of the room gets again.
type Write struct {
	Now time.Time
	TTL time.Duration
}

// LeaveResult tells what a Leave or Kick did to the room.
type LeaveResult struct {
	// Room is the room after the change (zero when Closed).
	Room Room
	// Closed is true when the room was deleted: the last member left, or
	// the host left and the room is configured to close then.
	Closed bool
	// HostChanged is true when the leaving member was host and Room.HostID
	// is the new host (the longest-present remaining member).
	HostChanged bool
}

// ExpireResult tells what ExpireRoom found.
type ExpireResult struct {
	// Due is set when the room is live: it expires at Due, unless a write
	// renews it first.
	Due time.Time
	// Expired is true when the room's TTL ran out (whether the store
	// dropped its keys on its own or ExpireRoom did): every key of the
	// room is gone now.
	Expired bool
	// Closed is true when the room was deleted by Close or by a Leave that
	// closed it, and is remembered as closed: its members were already
	// told, with another reason.
	Closed bool
}

// ClosedGrace is how long after the moment its TTL would have run out a
// room deleted by Close or a closing Leave is still remembered as closed,
// so that its expiry job, however late, does not also announce EXPIRED.
const ClosedGrace = time.Hour

// Store keeps rooms and their members. Every method is atomic: the checks
// it documents and the change it makes happen as one step, whatever other
// calls run concurrently on any process. Room codes passed in are already
// normalised (upper case). Every mutating call re-applies w.TTL to every
// key of the room, so the room expires as one unit after its last activity.
//
// Implementations: store/memory, store/redis. The conformance suite in
// store/storetest runs every implementation through the same cases.
type Store interface {
	// CreateRoom stores room with host as its only member. It returns
	// ErrCodeTaken if a room with room.Code exists.
	CreateRoom(ctx context.Context, w Write, room Room, host Member) error
	// Room returns the room or ErrRoomNotFound.
	Room(ctx context.Context, code string) (Room, error)
	// Members returns the room's members, longest-present first, or
	// ErrRoomNotFound.
	Members(ctx context.Context, code string) ([]Member, error)
	// Member returns one member, ErrRoomNotFound or ErrMemberNotFound.
	Member(ctx context.Context, code, userID string) (Member, error)
	// Join adds m to the room unless the room is missing (ErrRoomNotFound),
	// locked (ErrRoomLocked) or has MaxUsers members (ErrRoomFull).
	Join(ctx context.Context, w Write, code string, m Member) (Room, error)
	// Leave removes userID (ErrRoomNotFound, ErrMemberNotFound). When the
	// last member leaves, the room is deleted. When the host leaves, the
	// room is deleted if closeOnHostLeave is set, else the longest-present
	// remaining member becomes host.
	Leave(ctx context.Context, w Write, code, userID string, closeOnHostLeave bool) (LeaveResult, error)
	// Kick removes userID on behalf of hostID: ErrNotHost unless hostID is
	// the host, ErrCannotKickSelf when userID == hostID, ErrMemberNotFound
	// when userID is not a member.
	Kick(ctx context.Context, w Write, code, hostID, userID string) (Room, error)
	// ToggleLock flips IsLocked on behalf of hostID (ErrNotHost).
	ToggleLock(ctx context.Context, w Write, code, hostID string) (Room, error)
	// TransferHost makes newHostID host on behalf of hostID: ErrNotHost,
	// ErrAlreadyHost when newHostID is already host, ErrMemberNotFound.
	TransferHost(ctx context.Context, w Write, code, hostID, newHostID string) (Room, error)
	// Close deletes the room and all its keys on behalf of hostID
	// (ErrNotHost, ErrRoomNotFound), and remembers the room as closed
	// (see ExpireRoom) until ClosedGrace after its TTL would have run out.
	// A Leave that deletes the room remembers it the same way; CreateRoom
	// forgets it.
	Close(ctx context.Context, code, hostID string) error
	// ExpireRoom ends the room if its TTL has run out, as one step. A live
	// room is left alone and its expiry time returned (Due); a room that
	// was closed (Close, or a Leave that deleted it) and is still
	// remembered as such yields Closed; otherwise the room
	// has expired, or never existed: whatever keys of it remain are
	// deleted and Expired is true. w.Now is the time Due is computed
	// from; w.TTL is applied to a live room whose keys have somehow lost
	// their TTL.
	ExpireRoom(ctx context.Context, w Write, code string) (ExpireResult, error)

	// Touch registers or refreshes the presence entry of one socket of
	// userID, live until w.Now plus ttl, and returns the member with
	// Sockets counting its live entries afterwards. first is true when
	// the member had no live entry before (an entry is live while its
	// expiry is after w.Now); the member's expired entries are dropped.
	// ErrRoomNotFound or ErrMemberNotFound when there is no such member,
	// in which case nothing changes. Touch does not renew the room's TTL:
	// the presence entries of a room live and die with its other keys.
	Touch(ctx context.Context, w Write, code, userID, socketID string, ttl time.Duration) (member Member, first bool, err error)
	// Untouch removes the presence entry of one socket of userID. last is
	// true when userID has no live entry left at w.Now; the user's
	// expired entries are then dropped too, so that SweepPresence does
	// not report the user again. It works whether or not userID is still
	// a member; ErrRoomNotFound when the room does not exist.
	Untouch(ctx context.Context, w Write, code, userID, socketID string) (last bool, err error)
	// SweepPresence removes the room's presence entries that expired at or
	// before now and returns, once each, the members whose last entry was
	// among them. Concurrent sweeps on any number of processes never
	// report the same user twice for the same entries. roomGone is true
	// when the room does not exist (expired, closed or never created).
	SweepPresence(ctx context.Context, code string, now time.Time) (vanished []string, roomGone bool, err error)
	// MembersAt is Members with each Member.Sockets counting the member's
	// presence entries live at now.
	MembersAt(ctx context.Context, code string, now time.Time) ([]Member, error)

	// Admit reads, as one step, what a socket of userID connecting to the
	// room needs: the room and MembersAt(now), provided userID is a
	// member (ErrRoomNotFound, ErrMemberNotFound otherwise). It writes
	// nothing. It is the connect step's only store call, one round trip
	// where Member, Room and MembersAt would be three.
	Admit(ctx context.Context, code, userID string, now time.Time) (Room, []Member, error)
	// TouchAll is Touch for a batch of presence entries, of any rooms, at
	// w.Now with ttl: the i-th result is what Touch(entries[i]) returns,
	// with the room's HostID beside it, or its ErrRoomNotFound or
	// ErrMemberNotFound in TouchResult.Err (that entry then changes
	// nothing). Entries are applied in order; each one is atomic, not
	// the batch. The error return is for a batch that failed as a whole
	// (the store is unavailable), in which case any of the entries may or
	// may not have been written. An instance refreshes all its sockets
	// with it, in one round trip per batch rather than one per socket.
	TouchAll(ctx context.Context, w Write, ttl time.Duration, entries []PresenceEntry) ([]TouchResult, error)
}

// PresenceEntry names the presence entry of one socket (see Store.Touch).
type PresenceEntry struct {
	Code, UserID, SocketID string
}

// TouchResult is the outcome of one entry of Store.TouchAll.
type TouchResult struct {
	// Member is the member, Sockets counting its live entries after the
	// touch, as Touch returns it.
	Member Member
	// HostID is the room's host when the entry was written.
	HostID string
	// First is true when the member had no live entry before.
	First bool
	// Err is ErrRoomNotFound or ErrMemberNotFound when the entry could not
	// be written; the other fields are then zero.
	Err error
}
