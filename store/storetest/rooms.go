package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/rooms"
)

// RoomHarness is one isolated rooms.Store under test, with the means to
// control its time.
type RoomHarness struct {
	// Store is the implementation under test, empty.
	Store rooms.Store
	// FastForward moves the store's notion of time forward by d, expiring
	// what is due. It is nil when the store runs on real time, in which
	// case the expiry cases use short TTLs and sleep.
	FastForward func(d time.Duration)
	// Now returns the time passed as rooms.Write.Now.
	Now func() time.Time
}

// RunRooms runs the rooms.Store conformance cases, each as a parallel
// subtest of t with a store from its own call of newHarness.
func RunRooms(t *testing.T, newHarness func(t *testing.T) RoomHarness) {
	t.Helper()
	for _, c := range append(roomCases[:len(roomCases):len(roomCases)], presenceCases...) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if h.Now == nil {
				h.Now = time.Now
			}
			c.run(&roomT{T: t, h: h, s: h.Store, ctx: context.Background()})
		})
	}
}

// roomT is the state of one case: the testing.T and the store.
type roomT struct {
	*testing.T
	h   RoomHarness
	s   rooms.Store
	ctx context.Context
}

// longTTL is the TTL of writes in cases that do not test expiry.
const longTTL = time.Hour

func (r *roomT) w() rooms.Write { return rooms.Write{Now: r.h.Now(), TTL: longTTL} }

// create creates room code with host "host" and maxUsers.
func (r *roomT) create(code string, maxUsers int) rooms.Room {
	r.Helper()
	return r.createTTL(code, maxUsers, longTTL)
}

func (r *roomT) createTTL(code string, maxUsers int, ttl time.Duration) rooms.Room {
	r.Helper()
	now := r.h.Now()
	room := rooms.Room{
		Code:      code,
		HostID:    "host",
		MaxUsers:  maxUsers,
		State:     rooms.StateCreated,
		CreatedAt: now,
		UpdatedAt: now,
	}
	host := rooms.Member{ID: "host", DisplayName: "Host", JoinedAt: now}
	if err := r.s.CreateRoom(r.ctx, rooms.Write{Now: now, TTL: ttl}, room, host); err != nil {
		r.Fatalf("CreateRoom(%s): %v", code, err)
	}
	return room
}

// join adds userIDs to room code, in order.
func (r *roomT) join(code string, userIDs ...string) {
	r.Helper()
	for _, id := range userIDs {
		if _, err := r.s.Join(r.ctx, r.w(), code, member(id)); err != nil {
			r.Fatalf("Join(%s, %s): %v", code, id, err)
		}
	}
}

func member(id string) rooms.Member {
	return rooms.Member{ID: id, DisplayName: "Player " + id}
}

// memberIDs returns the ids of the room's members, in the store's order.
func (r *roomT) memberIDs(code string) []string {
	r.Helper()
	members, err := r.s.Members(r.ctx, code)
	if err != nil {
		r.Fatalf("Members(%s): %v", code, err)
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.ID
	}
	return ids
}

func (r *roomT) room(code string) rooms.Room {
	r.Helper()
	room, err := r.s.Room(r.ctx, code)
	if err != nil {
		r.Fatalf("Room(%s): %v", code, err)
	}
	return room
}

// wantErr fails unless err matches want with errors.Is.
func (r *roomT) wantErr(what string, err, want error) {
	r.Helper()
	if !errors.Is(err, want) {
		r.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// wantGone checks that room code and its members are gone.
func (r *roomT) wantGone(code string, userIDs ...string) {
	r.Helper()
	_, err := r.s.Room(r.ctx, code)
	r.wantErr("Room "+code, err, rooms.ErrRoomNotFound)
	_, err = r.s.Members(r.ctx, code)
	r.wantErr("Members "+code, err, rooms.ErrRoomNotFound)
	for _, id := range userIDs {
		_, err = r.s.Member(r.ctx, code, id)
		r.wantErr("Member "+code+" "+id, err, rooms.ErrRoomNotFound)
	}
}

// wantPresent checks that room code exists with exactly userIDs as
// members, in that order, each of them readable.
func (r *roomT) wantPresent(code string, userIDs ...string) {
	r.Helper()
	if _, err := r.s.Room(r.ctx, code); err != nil {
		r.Errorf("Room(%s): %v", code, err)
		return
	}
	if got := r.memberIDs(code); fmt.Sprint(got) != fmt.Sprint(userIDs) {
		r.Errorf("Members(%s) = %v, want %v", code, got, userIDs)
	}
	for _, id := range userIDs {
		if _, err := r.s.Member(r.ctx, code, id); err != nil {
			r.Errorf("Member(%s, %s): %v", code, id, err)
		}
	}
}

// sameMillis reports whether a and b are the same instant to the
// millisecond, which is the precision stores must keep.
func sameMillis(a, b time.Time) bool { return a.UnixMilli() == b.UnixMilli() }

func (r *roomT) wantRoom(what string, got, want rooms.Room) {
	r.Helper()
	if got.Code != want.Code || got.HostID != want.HostID || got.IsLocked != want.IsLocked ||
		got.MaxUsers != want.MaxUsers || got.State != want.State ||
		!sameMillis(got.CreatedAt, want.CreatedAt) || !sameMillis(got.UpdatedAt, want.UpdatedAt) {
		r.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func (r *roomT) wantMember(what string, got, want rooms.Member) {
	r.Helper()
	if got.ID != want.ID || got.DisplayName != want.DisplayName ||
		!sameMillis(got.JoinedAt, want.JoinedAt) {
		r.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// expire calls ExpireRoom.
func (r *roomT) expire(code string) rooms.ExpireResult {
	r.Helper()
	res, err := r.s.ExpireRoom(r.ctx, rooms.Write{Now: r.h.Now(), TTL: longTTL}, code)
	if err != nil {
		r.Fatalf("ExpireRoom(%s): %v", code, err)
	}
	return res
}

// wantDue calls ExpireRoom on room ABCD, whose last write started at
// writeStart and ended at writeEnd with ttl, and checks that it reports
// the room live, due ttl after the write, within margin and the time the
// calls took.
func (r *roomT) wantDue(what string, writeStart, writeEnd time.Time, ttl, margin time.Duration) {
	r.Helper()
	before := r.h.Now()
	res := r.expire("ABCD")
	took := r.h.Now().Sub(before)
	low, high := writeStart.Add(ttl-took-margin), writeEnd.Add(ttl+margin)
	if res.Expired || res.Closed || res.Due.Before(low) || res.Due.After(high) {
		r.Errorf("ExpireRoom %s = %+v, want Due within [%v, %v]", what, res, low, high)
	}
}

// wait lets d pass, on the store's clock when it has one.
func (r *roomT) wait(d time.Duration) {
	if r.h.FastForward != nil {
		r.h.FastForward(d)
		return
	}
	time.Sleep(d)
}

// expiryTTL returns the TTL of the expiry cases and the margin by which
// they check "just before" and "just after" it.
func (r *roomT) expiryTTL() (ttl, margin time.Duration) {
	if r.h.FastForward != nil {
		return 10 * time.Minute, time.Second
	}
	return 2 * time.Second, 600 * time.Millisecond
}

type roomCase struct {
	name string
	run  func(r *roomT)
}

var roomCases = []roomCase{
	{"CreateAndRead", func(r *roomT) {
		now := r.h.Now()
		created := now.Add(-time.Second)
		room := rooms.Room{
			Code:      "ABCD",
			HostID:    "host-1",
			IsLocked:  false,
			MaxUsers:  8,
			State:     rooms.StateCreated,
			CreatedAt: created,
			UpdatedAt: now,
		}
		host := rooms.Member{ID: "host-1", DisplayName: "Zoë the Host 🎲", JoinedAt: created}
		if err := r.s.CreateRoom(r.ctx, rooms.Write{Now: now, TTL: longTTL}, room, host); err != nil {
			r.Fatalf("CreateRoom: %v", err)
		}
		r.wantRoom("Room", r.room("ABCD"), room)

		members, err := r.s.Members(r.ctx, "ABCD")
		if err != nil || len(members) != 1 {
			r.Fatalf("Members = %v, %v; want the host alone", members, err)
		}
		r.wantMember("Members[0]", members[0], host)
		got, err := r.s.Member(r.ctx, "ABCD", "host-1")
		if err != nil {
			r.Fatalf("Member: %v", err)
		}
		r.wantMember("Member", got, host)

		locked := room
		locked.Code, locked.IsLocked = "LOCKD", true
		if err := r.s.CreateRoom(r.ctx, rooms.Write{Now: now, TTL: longTTL}, locked, host); err != nil {
			r.Fatalf("CreateRoom(locked): %v", err)
		}
		r.wantRoom("Room(locked)", r.room("LOCKD"), locked)
	}},

	{"ReadsReturnCopies", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a")
		members, _ := r.s.Members(r.ctx, "ABCD")
		members[0].DisplayName, members[0].Sockets = "changed", 42
		m, _ := r.s.Member(r.ctx, "ABCD", "a")
		m.DisplayName = "changed"
		room := r.room("ABCD")
		room.HostID = "a"
		if got, _ := r.s.Member(r.ctx, "ABCD", "host"); got.DisplayName != "Host" || got.Sockets != 0 {
			r.Errorf("Member(host) = %+v after changing a returned copy", got)
		}
		if got, _ := r.s.Member(r.ctx, "ABCD", "a"); got.DisplayName != "Player a" {
			r.Errorf("Member(a) = %+v after changing a returned copy", got)
		}
		if got := r.room("ABCD"); got.HostID != "host" {
			r.Errorf("Room().HostID = %q after changing a returned copy", got.HostID)
		}
	}},

	{"CreateCodeTaken", func(r *roomT) {
		r.create("ABCD", 4)
		now := r.h.Now()
		other := rooms.Room{Code: "ABCD", HostID: "intruder", MaxUsers: 2, State: rooms.StateCreated, CreatedAt: now, UpdatedAt: now}
		err := r.s.CreateRoom(r.ctx, r.w(), other, rooms.Member{ID: "intruder", DisplayName: "I", JoinedAt: now})
		r.wantErr("CreateRoom(taken)", err, rooms.ErrCodeTaken)
		if got := r.room("ABCD"); got.HostID != "host" || got.MaxUsers != 4 {
			r.Errorf("Room after a refused CreateRoom = %+v", got)
		}
		r.wantPresent("ABCD", "host")
	}},

	{"NotFound", func(r *roomT) {
		_, err := r.s.Room(r.ctx, "NOPE")
		r.wantErr("Room", err, rooms.ErrRoomNotFound)
		_, err = r.s.Members(r.ctx, "NOPE")
		r.wantErr("Members", err, rooms.ErrRoomNotFound)
		_, err = r.s.Member(r.ctx, "NOPE", "host")
		r.wantErr("Member", err, rooms.ErrRoomNotFound)
		_, err = r.s.Join(r.ctx, r.w(), "NOPE", member("a"))
		r.wantErr("Join", err, rooms.ErrRoomNotFound)
		_, err = r.s.Leave(r.ctx, r.w(), "NOPE", "host", false)
		r.wantErr("Leave", err, rooms.ErrRoomNotFound)
		_, err = r.s.Kick(r.ctx, r.w(), "NOPE", "host", "a")
		r.wantErr("Kick", err, rooms.ErrRoomNotFound)
		_, err = r.s.ToggleLock(r.ctx, r.w(), "NOPE", "host")
		r.wantErr("ToggleLock", err, rooms.ErrRoomNotFound)
		_, err = r.s.TransferHost(r.ctx, r.w(), "NOPE", "host", "a")
		r.wantErr("TransferHost", err, rooms.ErrRoomNotFound)
		r.wantErr("Close", r.s.Close(r.ctx, "NOPE", "host"), rooms.ErrRoomNotFound)

		r.create("ABCD", 4)
		_, err = r.s.Member(r.ctx, "ABCD", "stranger")
		r.wantErr("Member(stranger)", err, rooms.ErrMemberNotFound)
		// Codes are normalised by the service; a lower-case code is
		// another room.
		_, err = r.s.Room(r.ctx, "abcd")
		r.wantErr("Room(abcd)", err, rooms.ErrRoomNotFound)
		for _, code := range []string{"", "{ABCD}", "AB}CD", "{"} {
			_, err = r.s.Room(r.ctx, code)
			r.wantErr(fmt.Sprintf("Room(%q)", code), err, rooms.ErrRoomNotFound)
			_, err = r.s.Member(r.ctx, code, "host")
			r.wantErr(fmt.Sprintf("Member(%q)", code), err, rooms.ErrRoomNotFound)
			_, err = r.s.Join(r.ctx, r.w(), code, member("a"))
			r.wantErr(fmt.Sprintf("Join(%q)", code), err, rooms.ErrRoomNotFound)
		}
	}},

	{"JoinOrder", func(r *roomT) {
		r.create("ABCD", 10)
		// Everyone joins within the same millisecond: the order must
		// still be the order of the calls.
		now := r.h.Now()
		ids := []string{"zed", "amy", "mo", "bea", "al"}
		for _, id := range ids {
			room, err := r.s.Join(r.ctx, rooms.Write{Now: now, TTL: longTTL}, "ABCD", member(id))
			if err != nil {
				r.Fatalf("Join(%s): %v", id, err)
			}
			if room.Code != "ABCD" || room.HostID != "host" || !sameMillis(room.UpdatedAt, now) {
				r.Errorf("Join(%s) returned %+v, want the room updated at %v", id, room, now)
			}
		}
		r.wantPresent("ABCD", append([]string{"host"}, ids...)...)
		members, _ := r.s.Members(r.ctx, "ABCD")
		for _, m := range members[1:] {
			r.wantMember("Members", m, rooms.Member{ID: m.ID, DisplayName: "Player " + m.ID, JoinedAt: now})
		}
		if got := r.room("ABCD"); !sameMillis(got.UpdatedAt, now) {
			r.Errorf("Room().UpdatedAt = %v, want %v", got.UpdatedAt, now)
		}
	}},

	{"JoinTwice", func(r *roomT) {
		r.create("ABCD", 3)
		r.join("ABCD", "a", "b")
		// A member joining again keeps their place, even in a full room.
		if _, err := r.s.Join(r.ctx, r.w(), "ABCD", member("a")); err != nil {
			r.Errorf("Join(a) again: %v", err)
		}
		r.wantPresent("ABCD", "host", "a", "b")
	}},

	{"JoinLocked", func(r *roomT) {
		r.create("ABCD", 4)
		if _, err := r.s.ToggleLock(r.ctx, r.w(), "ABCD", "host"); err != nil {
			r.Fatalf("ToggleLock: %v", err)
		}
		_, err := r.s.Join(r.ctx, r.w(), "ABCD", member("a"))
		r.wantErr("Join(locked)", err, rooms.ErrRoomLocked)
		r.wantPresent("ABCD", "host")
	}},

	{"JoinFull", func(r *roomT) {
		r.create("ABCD", 3)
		r.join("ABCD", "a", "b")
		_, err := r.s.Join(r.ctx, r.w(), "ABCD", member("c"))
		r.wantErr("Join(full)", err, rooms.ErrRoomFull)
		r.wantPresent("ABCD", "host", "a", "b")
		// Leaving frees a place.
		if _, err := r.s.Leave(r.ctx, r.w(), "ABCD", "a", false); err != nil {
			r.Fatalf("Leave(a): %v", err)
		}
		r.join("ABCD", "c")
		r.wantPresent("ABCD", "host", "b", "c")
	}},

	{"LeaveMember", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a", "b")
		w := r.w()
		res, err := r.s.Leave(r.ctx, w, "ABCD", "a", false)
		if err != nil {
			r.Fatalf("Leave(a): %v", err)
		}
		if res.Closed || res.HostChanged || res.Room.HostID != "host" || res.Room.Code != "ABCD" || !sameMillis(res.Room.UpdatedAt, w.Now) {
			r.Errorf("Leave(a) = %+v, want the room with host unchanged, updated at %v", res, w.Now)
		}
		r.wantPresent("ABCD", "host", "b")
		_, err = r.s.Member(r.ctx, "ABCD", "a")
		r.wantErr("Member(a) after leaving", err, rooms.ErrMemberNotFound)
		_, err = r.s.Leave(r.ctx, r.w(), "ABCD", "a", false)
		r.wantErr("Leave(a) again", err, rooms.ErrMemberNotFound)
		_, err = r.s.Leave(r.ctx, r.w(), "ABCD", "stranger", true)
		r.wantErr("Leave(stranger)", err, rooms.ErrMemberNotFound)
		r.wantPresent("ABCD", "host", "b")
	}},

	{"HostSuccession", func(r *roomT) {
		r.create("ABCD", 10)
		now := r.h.Now()
		for _, id := range []string{"c", "a", "b", "d"} { // same millisecond
			if _, err := r.s.Join(r.ctx, rooms.Write{Now: now, TTL: longTTL}, "ABCD", member(id)); err != nil {
				r.Fatalf("Join(%s): %v", id, err)
			}
		}
		res, err := r.s.Leave(r.ctx, r.w(), "ABCD", "host", false)
		if err != nil {
			r.Fatalf("Leave(host): %v", err)
		}
		if res.Closed || !res.HostChanged || res.Room.HostID != "c" {
			r.Errorf("Leave(host) = %+v, want c, the longest present, as host", res)
		}
		if got := r.room("ABCD").HostID; got != "c" {
			r.Errorf("Room().HostID = %q, want c", got)
		}
		r.wantPresent("ABCD", "c", "a", "b", "d")

		// The successor is the longest present, not the one who joined
		// after the leaving host.
		if _, err := r.s.TransferHost(r.ctx, r.w(), "ABCD", "c", "b"); err != nil {
			r.Fatalf("TransferHost(b): %v", err)
		}
		res, err = r.s.Leave(r.ctx, r.w(), "ABCD", "b", false)
		if err != nil {
			r.Fatalf("Leave(b): %v", err)
		}
		if !res.HostChanged || res.Room.HostID != "c" {
			r.Errorf("Leave(b) = %+v, want c as host again", res)
		}
		// A member who is not host leaving changes no host.
		res, err = r.s.Leave(r.ctx, r.w(), "ABCD", "a", false)
		if err != nil || res.HostChanged || res.Room.HostID != "c" {
			r.Errorf("Leave(a) = %+v, %v; want c still host", res, err)
		}
		r.wantPresent("ABCD", "c", "d")
	}},

	{"HostLeaveCloses", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a", "b")
		// A member leaving with closeOnHostLeave set closes nothing.
		res, err := r.s.Leave(r.ctx, r.w(), "ABCD", "b", true)
		if err != nil || res.Closed {
			r.Fatalf("Leave(b, closeOnHostLeave) = %+v, %v; want the room open", res, err)
		}
		res, err = r.s.Leave(r.ctx, r.w(), "ABCD", "host", true)
		if err != nil {
			r.Fatalf("Leave(host): %v", err)
		}
		if !res.Closed || res.HostChanged || res.Room != (rooms.Room{}) {
			r.Errorf("Leave(host) = %+v, want Closed and a zero Room", res)
		}
		r.wantGone("ABCD", "host", "a", "b")
	}},

	{"LastMemberLeaves", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a")
		if _, err := r.s.Leave(r.ctx, r.w(), "ABCD", "host", false); err != nil {
			r.Fatalf("Leave(host): %v", err)
		}
		res, err := r.s.Leave(r.ctx, r.w(), "ABCD", "a", false)
		if err != nil {
			r.Fatalf("Leave(a): %v", err)
		}
		if !res.Closed || res.Room != (rooms.Room{}) {
			r.Errorf("Leave(last member) = %+v, want Closed", res)
		}
		r.wantGone("ABCD", "host", "a")
		// The code is free again, and nothing of the old room remains.
		r.create("ABCD", 4)
		r.wantPresent("ABCD", "host")
		_, err = r.s.Member(r.ctx, "ABCD", "a")
		r.wantErr("Member(a) in the new room", err, rooms.ErrMemberNotFound)
	}},

	{"Kick", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a", "b")
		_, err := r.s.Kick(r.ctx, r.w(), "ABCD", "a", "b")
		r.wantErr("Kick by a member", err, rooms.ErrNotHost)
		_, err = r.s.Kick(r.ctx, r.w(), "ABCD", "stranger", "b")
		r.wantErr("Kick by a stranger", err, rooms.ErrNotHost)
		_, err = r.s.Kick(r.ctx, r.w(), "ABCD", "host", "host")
		r.wantErr("Kick self", err, rooms.ErrCannotKickSelf)
		_, err = r.s.Kick(r.ctx, r.w(), "ABCD", "host", "stranger")
		r.wantErr("Kick a stranger", err, rooms.ErrMemberNotFound)
		r.wantPresent("ABCD", "host", "a", "b")

		w := r.w()
		room, err := r.s.Kick(r.ctx, w, "ABCD", "host", "a")
		if err != nil {
			r.Fatalf("Kick(a): %v", err)
		}
		if room.HostID != "host" || !sameMillis(room.UpdatedAt, w.Now) {
			r.Errorf("Kick(a) = %+v", room)
		}
		r.wantPresent("ABCD", "host", "b")
		_, err = r.s.Member(r.ctx, "ABCD", "a")
		r.wantErr("Member(a) after the kick", err, rooms.ErrMemberNotFound)
		_, err = r.s.Kick(r.ctx, r.w(), "ABCD", "host", "a")
		r.wantErr("Kick(a) again", err, rooms.ErrMemberNotFound)
	}},

	{"ToggleLock", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a")
		_, err := r.s.ToggleLock(r.ctx, r.w(), "ABCD", "a")
		r.wantErr("ToggleLock by a member", err, rooms.ErrNotHost)
		if r.room("ABCD").IsLocked {
			r.Fatalf("room locked by a refused ToggleLock")
		}

		w := r.w()
		room, err := r.s.ToggleLock(r.ctx, w, "ABCD", "host")
		if err != nil || !room.IsLocked || !sameMillis(room.UpdatedAt, w.Now) {
			r.Fatalf("ToggleLock = %+v, %v; want locked", room, err)
		}
		if !r.room("ABCD").IsLocked {
			r.Errorf("Room().IsLocked = false after locking")
		}
		_, err = r.s.Join(r.ctx, r.w(), "ABCD", member("b"))
		r.wantErr("Join(locked)", err, rooms.ErrRoomLocked)

		room, err = r.s.ToggleLock(r.ctx, r.w(), "ABCD", "host")
		if err != nil || room.IsLocked {
			r.Fatalf("ToggleLock again = %+v, %v; want unlocked", room, err)
		}
		if r.room("ABCD").IsLocked {
			r.Errorf("Room().IsLocked = true after unlocking")
		}
		r.join("ABCD", "b")
		r.wantPresent("ABCD", "host", "a", "b")
	}},

	{"TransferHost", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a", "b")
		_, err := r.s.TransferHost(r.ctx, r.w(), "ABCD", "a", "b")
		r.wantErr("TransferHost by a member", err, rooms.ErrNotHost)
		_, err = r.s.TransferHost(r.ctx, r.w(), "ABCD", "a", "a")
		r.wantErr("TransferHost to oneself by a member", err, rooms.ErrNotHost)
		_, err = r.s.TransferHost(r.ctx, r.w(), "ABCD", "host", "host")
		r.wantErr("TransferHost to the host", err, rooms.ErrAlreadyHost)
		_, err = r.s.TransferHost(r.ctx, r.w(), "ABCD", "host", "stranger")
		r.wantErr("TransferHost to a stranger", err, rooms.ErrMemberNotFound)
		if got := r.room("ABCD").HostID; got != "host" {
			r.Fatalf("HostID = %q after refused transfers", got)
		}

		w := r.w()
		room, err := r.s.TransferHost(r.ctx, w, "ABCD", "host", "b")
		if err != nil || room.HostID != "b" || !sameMillis(room.UpdatedAt, w.Now) {
			r.Fatalf("TransferHost(b) = %+v, %v", room, err)
		}
		if got := r.room("ABCD").HostID; got != "b" {
			r.Errorf("Room().HostID = %q, want b", got)
		}
		_, err = r.s.ToggleLock(r.ctx, r.w(), "ABCD", "host")
		r.wantErr("ToggleLock by the former host", err, rooms.ErrNotHost)
		if _, err := r.s.Kick(r.ctx, r.w(), "ABCD", "b", "host"); err != nil {
			r.Errorf("Kick by the new host: %v", err)
		}
		r.wantPresent("ABCD", "a", "b")
	}},

	{"Close", func(r *roomT) {
		r.create("ABCD", 4)
		r.create("OTHER", 4)
		r.join("ABCD", "a")
		r.wantErr("Close by a member", r.s.Close(r.ctx, "ABCD", "a"), rooms.ErrNotHost)
		r.wantErr("Close by a stranger", r.s.Close(r.ctx, "ABCD", "stranger"), rooms.ErrNotHost)
		r.wantPresent("ABCD", "host", "a")

		if err := r.s.Close(r.ctx, "ABCD", "host"); err != nil {
			r.Fatalf("Close: %v", err)
		}
		r.wantGone("ABCD", "host", "a")
		r.wantErr("Close again", r.s.Close(r.ctx, "ABCD", "host"), rooms.ErrRoomNotFound)
		_, err := r.s.Join(r.ctx, r.w(), "ABCD", member("b"))
		r.wantErr("Join(closed)", err, rooms.ErrRoomNotFound)
		r.wantPresent("OTHER", "host")
	}},

	{"ExpireRoomLiveReportsDue", func(r *roomT) {
		ttl, margin := r.expiryTTL()
		// On real time, each call takes a while: a write's TTL starts
		// between its before and after, and Due is counted from the
		// Write.Now of ExpireRoom, taken before the store runs it.
		before := r.h.Now()
		r.createTTL("ABCD", 4, ttl)
		r.wantDue("after create", before, r.h.Now(), ttl, margin)
		r.wait(ttl / 2)
		before = r.h.Now()
		if _, err := r.s.Join(r.ctx, rooms.Write{Now: before, TTL: ttl}, "ABCD", member("a")); err != nil {
			r.Fatalf("Join: %v", err)
		}
		r.wantDue("after a join", before, r.h.Now(), ttl, margin)
		r.wantPresent("ABCD", "host", "a") // ExpireRoom left the live room alone
	}},

	{"ExpireRoomExpired", func(r *roomT) {
		ttl, margin := r.expiryTTL()
		r.createTTL("ABCD", 4, ttl)
		if _, err := r.s.Join(r.ctx, rooms.Write{Now: r.h.Now(), TTL: ttl}, "ABCD", member("a")); err != nil {
			r.Fatalf("Join: %v", err)
		}
		r.wait(ttl + margin)
		for i := range 2 { // idempotent
			if res := r.expire("ABCD"); !res.Expired || res.Closed || !res.Due.IsZero() {
				r.Errorf("ExpireRoom #%d of an expired room = %+v, want Expired", i+1, res)
			}
		}
		r.wantGone("ABCD", "host", "a")
		if res := r.expire("NONE"); !res.Expired {
			r.Errorf("ExpireRoom of a room that never existed = %+v, want Expired", res)
		}
	}},

	{"ExpireRoomClosed", func(r *roomT) {
		r.create("ABCD", 4)
		if err := r.s.Close(r.ctx, "ABCD", "host"); err != nil {
			r.Fatalf("Close: %v", err)
		}
		for i := range 2 {
			if res := r.expire("ABCD"); !res.Closed || res.Expired {
				r.Errorf("ExpireRoom #%d of a closed room = %+v, want Closed", i+1, res)
			}
		}
		r.wantGone("ABCD", "host")

		r.create("LEFT", 4)
		if res, err := r.s.Leave(r.ctx, r.w(), "LEFT", "host", false); err != nil || !res.Closed {
			r.Fatalf("Leave of the last member = %+v, %v; want Closed", res, err)
		}
		if res := r.expire("LEFT"); !res.Closed {
			r.Errorf("ExpireRoom of a room its last member left = %+v, want Closed", res)
		}

		// A new room with the code is not closed.
		ttl, margin := r.expiryTTL()
		before := r.h.Now()
		r.createTTL("ABCD", 4, ttl)
		r.wantDue("new room with a closed room's code", before, r.h.Now(), ttl, margin)
		r.wait(ttl + margin)
		if res := r.expire("ABCD"); !res.Expired {
			r.Errorf("ExpireRoom of the new room after its TTL = %+v, want Expired", res)
		}
	}},

	{"ExpireRoomClosedForgottenAfterGrace", func(r *roomT) {
		if r.h.FastForward == nil {
			return // an hour of real time; the memory and miniredis runs cover it
		}
		r.createTTL("ABCD", 4, time.Minute)
		if err := r.s.Close(r.ctx, "ABCD", "host"); err != nil {
			r.Fatalf("Close: %v", err)
		}
		r.wait(time.Minute + rooms.ClosedGrace - time.Second)
		if res := r.expire("ABCD"); !res.Closed {
			r.Errorf("ExpireRoom just before the grace ends = %+v, want Closed", res)
		}
		r.wait(2 * time.Second)
		if res := r.expire("ABCD"); !res.Expired {
			r.Errorf("ExpireRoom after the grace = %+v, want Expired", res)
		}
	}},

	{"ExpiryAfterLastWrite", func(r *roomT) {
		ttl, margin := r.expiryTTL()
		r.createTTL("ABCD", 4, ttl)
		r.wait(ttl / 2)
		if _, err := r.s.Join(r.ctx, rooms.Write{Now: r.h.Now(), TTL: ttl}, "ABCD", member("a")); err != nil {
			r.Fatalf("Join: %v", err)
		}
		// More than ttl after the creation, less than ttl after the join.
		r.wait(ttl - margin)
		r.wantPresent("ABCD", "host", "a")
		r.wait(2 * margin) // the reads above renewed nothing

		r.wantGone("ABCD", "host", "a")

		r.create("ABCD", 4)
		r.wantPresent("ABCD", "host")
		_, err := r.s.Member(r.ctx, "ABCD", "a")
		r.wantErr("Member(a) in the new room", err, rooms.ErrMemberNotFound)
	}},

	{"ExpiryAfterEveryKindOfWrite", func(r *roomT) {
		// Each write renews the TTL of every remaining key of its room:
		// after it, the room and every remaining member outlive the
		// TTL of earlier writes, and then expire together.
		ttl, margin := r.expiryTTL()
		writes := []struct {
			name      string
			remaining []string
			do        func(w rooms.Write, code string) error
		}{
			{"Leave", []string{"host", "b", "c"}, func(w rooms.Write, code string) error {
				_, err := r.s.Leave(r.ctx, w, code, "a", false)
				return err
			}},
			{"HostLeave", []string{"a", "b", "c"}, func(w rooms.Write, code string) error {
				_, err := r.s.Leave(r.ctx, w, code, "host", false)
				return err
			}},
			{"Kick", []string{"host", "a", "c"}, func(w rooms.Write, code string) error {
				_, err := r.s.Kick(r.ctx, w, code, "host", "b")
				return err
			}},
			{"ToggleLock", []string{"host", "a", "b", "c"}, func(w rooms.Write, code string) error {
				_, err := r.s.ToggleLock(r.ctx, w, code, "host")
				return err
			}},
			{"TransferHost", []string{"host", "a", "b", "c"}, func(w rooms.Write, code string) error {
				_, err := r.s.TransferHost(r.ctx, w, code, "host", "c")
				return err
			}},
			{"Join", []string{"host", "a", "b", "c", "d"}, func(w rooms.Write, code string) error {
				_, err := r.s.Join(r.ctx, w, code, member("d"))
				return err
			}},
		}
		for i := range writes {
			code := fmt.Sprintf("EXP%d", i)
			r.createTTL(code, 8, ttl)
			for _, id := range []string{"a", "b", "c"} {
				if _, err := r.s.Join(r.ctx, rooms.Write{Now: r.h.Now(), TTL: ttl}, code, member(id)); err != nil {
					r.Fatalf("Join(%s, %s): %v", code, id, err)
				}
			}
		}
		r.wait(ttl / 2)
		for i, wr := range writes {
			if err := wr.do(rooms.Write{Now: r.h.Now(), TTL: ttl}, fmt.Sprintf("EXP%d", i)); err != nil {
				r.Fatalf("%s: %v", wr.name, err)
			}
		}
		// More than ttl after the creation, less than ttl after the write.
		r.wait(ttl - margin)
		for i, wr := range writes {
			r.wantPresent(fmt.Sprintf("EXP%d", i), wr.remaining...)
		}
		r.wait(2 * margin)
		for i, wr := range writes {
			code := fmt.Sprintf("EXP%d", i)
			r.wantGone(code, wr.remaining...)
			// Nothing of the room survives under its code.
			r.create(code, 8)
			r.wantPresent(code, "host")
			for _, id := range []string{"a", "b", "c", "d"} {
				_, err := r.s.Member(r.ctx, code, id)
				r.wantErr(wr.name+": Member("+id+") in the new room", err, rooms.ErrMemberNotFound)
			}
		}
	}},

	{"ConcurrentJoinsRespectMaxUsers", func(r *roomT) {
		const maxUsers, joiners = 5, 300
		r.create("ABCD", maxUsers)
		var joined, full atomic.Int32
		var wg sync.WaitGroup
		for i := range joiners {
			wg.Go(func() {
				_, err := r.s.Join(r.ctx, r.w(), "ABCD", member(fmt.Sprintf("u%03d", i)))
				switch {
				case err == nil:
					joined.Add(1)
				case errors.Is(err, rooms.ErrRoomFull):
					full.Add(1)
				default:
					r.Errorf("Join(u%03d): %v", i, err)
				}
			})
		}
		wg.Wait()
		if joined.Load() != maxUsers-1 || full.Load() != joiners-maxUsers+1 {
			r.Errorf("%d joins succeeded and %d were refused as full, want %d and %d",
				joined.Load(), full.Load(), maxUsers-1, joiners-maxUsers+1)
		}
		if ids := r.memberIDs("ABCD"); len(ids) != maxUsers || ids[0] != "host" {
			r.Errorf("Members = %v, want the host and %d others", ids, maxUsers-1)
		}
	}},

	{"ConcurrentCreatesOfOneCode", func(r *roomT) {
		const creators = 50
		var created, taken atomic.Int32
		var wg sync.WaitGroup
		for i := range creators {
			wg.Go(func() {
				now := r.h.Now()
				id := fmt.Sprintf("h%02d", i)
				room := rooms.Room{Code: "ABCD", HostID: id, MaxUsers: 4, State: rooms.StateCreated, CreatedAt: now, UpdatedAt: now}
				err := r.s.CreateRoom(r.ctx, r.w(), room, rooms.Member{ID: id, DisplayName: id, JoinedAt: now})
				switch {
				case err == nil:
					created.Add(1)
				case errors.Is(err, rooms.ErrCodeTaken):
					taken.Add(1)
				default:
					r.Errorf("CreateRoom(%s): %v", id, err)
				}
			})
		}
		wg.Wait()
		if created.Load() != 1 || taken.Load() != creators-1 {
			r.Errorf("%d creates succeeded and %d found the code taken, want 1 and %d", created.Load(), taken.Load(), creators-1)
		}
		host := r.room("ABCD").HostID
		r.wantPresent("ABCD", host)
	}},

	{"ConcurrentLeavesCloseOnce", func(r *roomT) {
		const members = 30
		r.create("ABCD", members)
		ids := []string{"host"}
		for i := 1; i < members; i++ {
			ids = append(ids, fmt.Sprintf("u%02d", i))
		}
		r.join("ABCD", ids[1:]...)
		var closed atomic.Int32
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				res, err := r.s.Leave(r.ctx, r.w(), "ABCD", id, false)
				if err != nil {
					r.Errorf("Leave(%s): %v", id, err)
					return
				}
				if res.Closed {
					closed.Add(1)
				}
			})
		}
		wg.Wait()
		if closed.Load() != 1 {
			r.Errorf("%d leaves closed the room, want exactly 1", closed.Load())
		}
		r.wantGone("ABCD", ids...)
	}},
}
