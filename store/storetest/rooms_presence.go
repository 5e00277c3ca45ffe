package storetest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rendezvous-go/rendezvous/rooms"
)

// presenceTTL is the TTL of presence entries in the presence cases. Their
// times are passed explicitly (rooms.Write.Now, the now of SweepPresence),
// so no case waits for it to pass.
const presenceTTL = 30 * time.Second

// at is a Write at t with the long room TTL.
func at(t time.Time) rooms.Write { return rooms.Write{Now: t, TTL: longTTL} }

// touch calls Touch and fails the case on an error.
func (r *roomT) touch(t time.Time, code, userID, socketID string) (rooms.Member, bool) {
	r.Helper()
	m, first, err := r.s.Touch(r.ctx, at(t), code, userID, socketID, presenceTTL)
	if err != nil {
		r.Fatalf("Touch(%s, %s, %s): %v", code, userID, socketID, err)
	}
	return m, first
}

// untouch calls Untouch and fails the case on an error.
func (r *roomT) untouch(t time.Time, code, userID, socketID string) bool {
	r.Helper()
	last, err := r.s.Untouch(r.ctx, at(t), code, userID, socketID)
	if err != nil {
		r.Fatalf("Untouch(%s, %s, %s): %v", code, userID, socketID, err)
	}
	return last
}

// sweepPresence calls SweepPresence and fails the case on an error.
func (r *roomT) sweepPresence(t time.Time, code string) ([]string, bool) {
	r.Helper()
	vanished, gone, err := r.s.SweepPresence(r.ctx, code, t)
	if err != nil {
		r.Fatalf("SweepPresence(%s): %v", code, err)
	}
	return vanished, gone
}

// sockets returns the Sockets of each member of MembersAt(t), by id.
func (r *roomT) sockets(t time.Time, code string) map[string]int {
	r.Helper()
	members, err := r.s.MembersAt(r.ctx, code, t)
	if err != nil {
		r.Fatalf("MembersAt(%s): %v", code, err)
	}
	m := make(map[string]int, len(members))
	for _, mem := range members {
		m[mem.ID] = mem.Sockets
	}
	return m
}

// touchAll calls TouchAll and fails the case on an error of the batch.
func (r *roomT) touchAll(t time.Time, entries ...rooms.PresenceEntry) []rooms.TouchResult {
	r.Helper()
	res, err := r.s.TouchAll(r.ctx, at(t), presenceTTL, entries)
	if err != nil {
		r.Fatalf("TouchAll: %v", err)
	}
	if len(res) != len(entries) {
		r.Fatalf("TouchAll of %d entries = %d results", len(entries), len(res))
	}
	return res
}

var presenceCases = []roomCase{
	{"PresenceAdmit", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a", "b")
		t0 := r.h.Now()
		r.touch(t0, "ABCD", "host", "h1")
		r.touch(t0, "ABCD", "a", "a1")
		r.touch(t0, "ABCD", "a", "a2")
		room, members, err := r.s.Admit(r.ctx, "ABCD", "b", t0.Add(time.Second))
		if err != nil {
			r.Fatalf("Admit: %v", err)
		}
		r.wantRoom("Admit", room, r.room("ABCD"))
		want, err := r.s.MembersAt(r.ctx, "ABCD", t0.Add(time.Second))
		if err != nil {
			r.Fatalf("MembersAt: %v", err)
		}
		if len(members) != len(want) {
			r.Fatalf("Admit members = %+v, want %+v", members, want)
		}
		for i := range want {
			r.wantMember(fmt.Sprintf("Admit member %d", i), members[i], want[i])
			if members[i].Sockets != want[i].Sockets {
				r.Errorf("Admit member %s has %d sockets, MembersAt %d", members[i].ID, members[i].Sockets, want[i].Sockets)
			}
		}
		if got := fmt.Sprint(members[0].Sockets, members[1].Sockets, members[2].Sockets); got != "1 2 0" {
			r.Errorf("Admit sockets = %s, want 1 2 0", got)
		}
		if _, members, _ := r.s.Admit(r.ctx, "ABCD", "a", t0.Add(presenceTTL)); len(members) != 3 || members[0].Sockets+members[1].Sockets != 0 {
			r.Errorf("Admit after the entries expired = %+v, want no live entry", members)
		}
		_, _, err = r.s.Admit(r.ctx, "ABCD", "stranger", t0)
		r.wantErr("Admit of a non-member", err, rooms.ErrMemberNotFound)
		_, _, err = r.s.Admit(r.ctx, "NONE", "a", t0)
		r.wantErr("Admit in a missing room", err, rooms.ErrRoomNotFound)
	}},

	{"PresenceTouchAll", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a")
		r.create("EFGH", 4)
		if _, err := r.s.TransferHost(r.ctx, r.w(), "ABCD", "host", "a"); err != nil {
			r.Fatalf("TransferHost: %v", err)
		}
		t0 := r.h.Now()
		res := r.touchAll(t0,
			rooms.PresenceEntry{Code: "ABCD", UserID: "a", SocketID: "a1"},
			rooms.PresenceEntry{Code: "ABCD", UserID: "a", SocketID: "a2"},
			rooms.PresenceEntry{Code: "EFGH", UserID: "host", SocketID: "h1"},
			rooms.PresenceEntry{Code: "NONE", UserID: "a", SocketID: "x1"},
			rooms.PresenceEntry{Code: "ABCD", UserID: "stranger", SocketID: "s1"},
			rooms.PresenceEntry{Code: "ABCD", UserID: "host", SocketID: "h2"},
		)
		if g := res[0]; g.Err != nil || !g.First || g.Member.ID != "a" || g.Member.DisplayName != "Player a" || g.Member.Sockets != 1 || g.HostID != "a" {
			r.Errorf("TouchAll a1 = %+v; want member a, 1 socket, first, host a", g)
		}
		if g := res[1]; g.Err != nil || g.First || g.Member.Sockets != 2 {
			r.Errorf("TouchAll a2 = %+v; want 2 sockets, not first", g)
		}
		if g := res[2]; g.Err != nil || !g.First || g.Member.ID != "host" || g.Member.DisplayName != "Host" || g.HostID != "host" {
			r.Errorf("TouchAll h1 in EFGH = %+v; want Host, first, host host", g)
		}
		r.wantErr("TouchAll in a missing room", res[3].Err, rooms.ErrRoomNotFound)
		r.wantErr("TouchAll of a non-member", res[4].Err, rooms.ErrMemberNotFound)
		if g := res[5]; g.Err != nil || !g.First || g.Member.Sockets != 1 || g.HostID != "a" {
			r.Errorf("TouchAll h2 = %+v; want 1 socket, first, host a", g)
		}
		if got := r.sockets(t0, "ABCD"); got["a"] != 2 || got["host"] != 1 || len(got) != 2 {
			r.Errorf("MembersAt after TouchAll = %v, want a:2 host:1", got)
		}
		// A refresh renews; an expired entry is dropped and its user is
		// first again.
		if g := r.touchAll(t0.Add(10*time.Second), rooms.PresenceEntry{Code: "ABCD", UserID: "a", SocketID: "a1"})[0]; g.Err != nil || g.First || g.Member.Sockets != 2 {
			r.Errorf("refreshing TouchAll = %+v; want 2 sockets, not first", g)
		}
		late := t0.Add(10*time.Second + presenceTTL)
		g := r.touchAll(late,
			rooms.PresenceEntry{Code: "ABCD", UserID: "a", SocketID: "a3"},
			rooms.PresenceEntry{Code: "ABCD", UserID: "a", SocketID: "a3"},
		)
		if g[0].Err != nil || !g[0].First || g[0].Member.Sockets != 1 || g[1].First || g[1].Member.Sockets != 1 {
			r.Errorf("TouchAll after every entry of a expired = %+v; want first with 1 socket, then 1 socket not first", g)
		}
		if vanished, _ := r.sweepPresence(late, "ABCD"); fmt.Sprint(vanished) != "[host]" {
			r.Errorf("sweep = %v, want [host] (a's expired entries were dropped)", vanished)
		}
		if got := r.sockets(late, "ABCD"); got["a"] != 1 || got["host"] != 0 {
			r.Errorf("MembersAt after the sweep = %v, want a:1 host:0", got)
		}
	}},

	{"PresenceTouchRefreshUntouch", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a")
		t0 := r.h.Now()
		m, first := r.touch(t0, "ABCD", "a", "s1")
		if !first || m.ID != "a" || m.DisplayName != "Player a" || m.Sockets != 1 {
			r.Errorf("first Touch = %+v, first %v; want member a with 1 socket, first", m, first)
		}
		if m, first := r.touch(t0.Add(10*time.Second), "ABCD", "a", "s1"); first || m.Sockets != 1 {
			r.Errorf("refreshing Touch = %+v, first %v; want 1 socket, not first", m, first)
		}
		if m, first := r.touch(t0.Add(10*time.Second), "ABCD", "a", "s2"); first || m.Sockets != 2 {
			r.Errorf("second socket's Touch = %+v, first %v; want 2 sockets, not first", m, first)
		}
		if last := r.untouch(t0.Add(11*time.Second), "ABCD", "a", "s1"); last {
			r.Errorf("Untouch(s1) with s2 live = last, want not last")
		}
		if got := r.sockets(t0.Add(11*time.Second), "ABCD"); got["a"] != 1 || got["host"] != 0 {
			r.Errorf("MembersAt after Untouch(s1) = %v, want a:1 host:0", got)
		}
		if last := r.untouch(t0.Add(12*time.Second), "ABCD", "a", "s2"); !last {
			r.Errorf("Untouch(s2), the last socket = not last, want last")
		}
		if last := r.untouch(t0.Add(12*time.Second), "ABCD", "a", "s2"); !last {
			r.Errorf("Untouch(s2) again = not last, want last")
		}
		if m, first := r.touch(t0.Add(13*time.Second), "ABCD", "a", "s3"); !first || m.Sockets != 1 {
			r.Errorf("Touch after the last Untouch = %+v, first %v; want 1 socket, first", m, first)
		}
	}},

	{"PresenceErrors", func(r *roomT) {
		t0 := r.h.Now()
		_, _, err := r.s.Touch(r.ctx, at(t0), "NONE", "a", "s1", presenceTTL)
		r.wantErr("Touch in a missing room", err, rooms.ErrRoomNotFound)
		_, err = r.s.Untouch(r.ctx, at(t0), "NONE", "a", "s1")
		r.wantErr("Untouch in a missing room", err, rooms.ErrRoomNotFound)
		r.create("ABCD", 4)
		_, _, err = r.s.Touch(r.ctx, at(t0), "ABCD", "stranger", "s1", presenceTTL)
		r.wantErr("Touch of a non-member", err, rooms.ErrMemberNotFound)
		if got := r.sockets(t0, "ABCD"); len(got) != 1 || got["host"] != 0 {
			r.Errorf("MembersAt after a refused Touch = %v, want host:0 only", got)
		}
		if last := r.untouch(t0, "ABCD", "stranger", "s1"); !last {
			r.Errorf("Untouch of a non-member = not last, want last")
		}
	}},

	{"PresenceLiveEntriesOnly", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a", "b")
		t0 := r.h.Now()
		r.touch(t0, "ABCD", "host", "h1")
		r.touch(t0, "ABCD", "a", "a1")
		r.touch(t0.Add(20*time.Second), "ABCD", "a", "a2")
		if got := r.sockets(t0.Add(time.Second), "ABCD"); got["host"] != 1 || got["a"] != 2 || got["b"] != 0 {
			r.Errorf("MembersAt(t0+1s) = %v, want host:1 a:2 b:0", got)
		}
		// h1 and a1 expire at t0+30s; a2 at t0+50s.
		if got := r.sockets(t0.Add(presenceTTL), "ABCD"); got["host"] != 0 || got["a"] != 1 || got["b"] != 0 {
			r.Errorf("MembersAt(t0+30s) = %v, want host:0 a:1 b:0", got)
		}
		if got := r.sockets(t0.Add(20*time.Second+presenceTTL), "ABCD"); got["host"] != 0 || got["a"] != 0 {
			r.Errorf("MembersAt(t0+50s) = %v, want host:0 a:0", got)
		}
		// Members counts every entry not yet removed.
		members, err := r.s.Members(r.ctx, "ABCD")
		if err != nil || len(members) != 3 || members[0].Sockets != 1 || members[1].Sockets != 2 || members[2].Sockets != 0 {
			r.Errorf("Members = %+v, %v; want sockets 1, 2, 0", members, err)
		}
		if m, err := r.s.Member(r.ctx, "ABCD", "a"); err != nil || m.Sockets != 2 {
			r.Errorf("Member(a) = %+v, %v; want 2 sockets", m, err)
		}
	}},

	{"PresenceSweepReportsVanishedOnce", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a", "b")
		t0 := r.h.Now()
		r.touch(t0, "ABCD", "a", "a1") // a's instance crashes
		r.touch(t0, "ABCD", "a", "a2")
		r.touch(t0, "ABCD", "b", "b1") // b's socket on the crashed instance
		r.touch(t0.Add(20*time.Second), "ABCD", "b", "b2")
		if vanished, gone := r.sweepPresence(t0.Add(presenceTTL-time.Second), "ABCD"); len(vanished) != 0 || gone {
			r.Errorf("sweep before expiry = %v, gone %v; want nothing", vanished, gone)
		}
		if vanished, gone := r.sweepPresence(t0.Add(presenceTTL), "ABCD"); fmt.Sprint(vanished) != "[a]" || gone {
			r.Errorf("sweep at expiry = %v, gone %v; want [a]", vanished, gone)
		}
		if vanished, _ := r.sweepPresence(t0.Add(presenceTTL+time.Second), "ABCD"); len(vanished) != 0 {
			r.Errorf("second sweep = %v, want nothing", vanished)
		}
		if got := r.sockets(t0.Add(presenceTTL), "ABCD"); got["a"] != 0 || got["b"] != 1 {
			r.Errorf("MembersAt after the sweep = %v, want a:0 b:1", got)
		}
		if m, err := r.s.Member(r.ctx, "ABCD", "a"); err != nil || m.Sockets != 0 {
			r.Errorf("Member(a) after the sweep = %+v, %v; want no entry left", m, err)
		}
	}},

	{"PresenceConcurrentSweepers", func(r *roomT) {
		const users, sockets, sweepers = 20, 3, 16
		r.create("ABCD", users+1)
		t0 := r.h.Now()
		var ids []string
		for i := range users {
			id := fmt.Sprintf("u%02d", i)
			ids = append(ids, id)
			r.join("ABCD", id)
			for k := range sockets {
				r.touch(t0.Add(time.Duration(k)*time.Millisecond), "ABCD", id, fmt.Sprintf("%s-s%d", id, k))
			}
		}
		var (
			mu  sync.Mutex
			got []string
			wg  sync.WaitGroup
		)
		for i := range sweepers {
			wg.Go(func() {
				// Each sweeper sweeps twice, at times spread over the
				// entries' expiries.
				for k := range 2 {
					vanished, gone, err := r.s.SweepPresence(r.ctx, "ABCD", t0.Add(presenceTTL+time.Duration(i%sockets+k)*time.Millisecond))
					if err != nil || gone {
						r.Errorf("SweepPresence: %v, gone %v", err, gone)
						return
					}
					mu.Lock()
					got = append(got, vanished...)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if vanished, _ := r.sweepPresence(t0.Add(presenceTTL+time.Second), "ABCD"); len(vanished) != 0 {
			got = append(got, vanished...)
		}
		slices.Sort(got)
		if fmt.Sprint(got) != fmt.Sprint(ids) {
			r.Errorf("concurrent sweeps reported %v, want each of %v exactly once", got, ids)
		}
	}},

	{"PresenceExpiredEntriesDroppedByTouchAndUntouch", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a", "b")
		t0 := r.h.Now()
		late := t0.Add(presenceTTL + time.Second)
		// a: the only entry expired, unswept; a new socket is first, and
		// the sweep no longer reports a.
		r.touch(t0, "ABCD", "a", "a1")
		if m, first := r.touch(late, "ABCD", "a", "a2"); !first || m.Sockets != 1 {
			r.Errorf("Touch after the expiry of a's only entry = %+v, first %v; want 1 socket, first", m, first)
		}
		// b: one entry expired, the other goes by Untouch: last, and the
		// sweep does not report b again.
		r.touch(t0, "ABCD", "b", "b1")
		r.touch(late.Add(-2*time.Second), "ABCD", "b", "b2")
		if last := r.untouch(late, "ABCD", "b", "b2"); !last {
			r.Errorf("Untouch of b's last live entry = not last, want last")
		}
		if vanished, _ := r.sweepPresence(late, "ABCD"); len(vanished) != 0 {
			r.Errorf("sweep = %v, want nothing (a is live, b was reported by Untouch)", vanished)
		}
		if m, err := r.s.Member(r.ctx, "ABCD", "b"); err != nil || m.Sockets != 0 {
			r.Errorf("Member(b) = %+v, %v; want no entry left", m, err)
		}
	}},

	{"PresenceSweepSkipsFormerMembers", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a", "b")
		t0 := r.h.Now()
		r.touch(t0, "ABCD", "a", "a1")
		r.touch(t0, "ABCD", "b", "b1")
		if _, err := r.s.Kick(r.ctx, at(t0), "ABCD", "host", "a"); err != nil {
			r.Fatalf("Kick: %v", err)
		}
		if _, err := r.s.Leave(r.ctx, at(t0), "ABCD", "b", false); err != nil {
			r.Fatalf("Leave: %v", err)
		}
		if vanished, gone := r.sweepPresence(t0.Add(presenceTTL), "ABCD"); len(vanished) != 0 || gone {
			r.Errorf("sweep = %v, gone %v; want nothing: a was kicked, b left", vanished, gone)
		}
	}},

	{"PresenceCloseDeletesEntries", func(r *roomT) {
		r.create("ABCD", 4)
		r.join("ABCD", "a")
		t0 := r.h.Now()
		r.touch(t0, "ABCD", "host", "h1")
		r.touch(t0, "ABCD", "a", "a1")
		if err := r.s.Close(r.ctx, "ABCD", "host"); err != nil {
			r.Fatalf("Close: %v", err)
		}
		if vanished, gone := r.sweepPresence(t0.Add(presenceTTL), "ABCD"); len(vanished) != 0 || !gone {
			r.Errorf("sweep of a closed room = %v, gone %v; want nothing, gone", vanished, gone)
		}
		_, _, err := r.s.Touch(r.ctx, at(t0), "ABCD", "host", "h1", presenceTTL)
		r.wantErr("Touch in a closed room", err, rooms.ErrRoomNotFound)
		// A new room with the code starts without presence.
		r.create("ABCD", 4)
		if got := r.sockets(t0, "ABCD"); got["host"] != 0 {
			r.Errorf("MembersAt of the new room = %v, want host:0", got)
		}
		if _, first := r.touch(t0, "ABCD", "host", "h1"); !first {
			r.Errorf("Touch in the new room = not first, want first")
		}
		// The last member leaving deletes the entries the same way.
		if _, err := r.s.Leave(r.ctx, at(t0), "ABCD", "host", false); err != nil {
			r.Fatalf("Leave: %v", err)
		}
		r.create("ABCD", 4)
		if got := r.sockets(t0, "ABCD"); got["host"] != 0 {
			r.Errorf("MembersAt after a closing Leave and a new create = %v, want host:0", got)
		}
	}},

	{"PresenceRoomGone", func(r *roomT) {
		t0 := r.h.Now()
		if vanished, gone := r.sweepPresence(t0, "NONE"); len(vanished) != 0 || !gone {
			r.Errorf("sweep of a room never created = %v, gone %v; want nothing, gone", vanished, gone)
		}
		ttl, margin := r.expiryTTL()
		r.createTTL("ABCD", 4, ttl)
		r.touch(r.h.Now(), "ABCD", "host", "h1")
		if _, gone := r.sweepPresence(r.h.Now(), "ABCD"); gone {
			r.Errorf("sweep of a live room = gone, want not gone")
		}
		r.wait(ttl + margin) // the Touch renewed nothing
		if vanished, gone := r.sweepPresence(r.h.Now(), "ABCD"); len(vanished) != 0 || !gone {
			r.Errorf("sweep of an expired room = %v, gone %v; want nothing, gone", vanished, gone)
		}
		if res := r.expire("ABCD"); !res.Expired {
			r.Errorf("ExpireRoom after the sweep = %+v, want Expired", res)
		}
	}},
}
