package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/rooms"
)

// The presence scripts, one per operation.
var (
	touchScript         = roomScript("room_touch.lua")
	untouchScript       = roomScript("room_untouch.lua")
	sweepPresenceScript = roomScript("room_sweep_presence.lua")
	touchAllScript      = roomScript("room_touch_all.lua")
	admitScript         = roomScript("room_admit.lua")
)

func checkPresence(userID, socketID string) error {
	if strings.Contains(userID, "|") {
		return fmt.Errorf("redis: user id %q may not contain '|'", userID)
	}
	if socketID == "" {
		return fmt.Errorf("redis: empty socket id")
	}
	return nil
}

// Touch implements rooms.Store with one script: the entry is the member
// "<userID>|<socketID>" of the zset room:{CODE}:presence, scored by its
// expiry in unix milliseconds. The zset gets the room hash's remaining TTL.
func (s *RoomStore) Touch(ctx context.Context, w rooms.Write, code, userID, socketID string, ttl time.Duration) (rooms.Member, bool, error) {
	if err := checkPresence(userID, socketID); err != nil {
		return rooms.Member{}, false, err
	}
	if ttl < time.Millisecond {
		return rooms.Member{}, false, fmt.Errorf("redis: presence TTL must be at least 1ms, got %v", ttl)
	}
	res, err := s.run(ctx, touchScript, code, w.Now.UnixMilli(), userID, socketID, ttl.Milliseconds())
	if err != nil {
		return rooms.Member{}, false, err
	}
	if len(res) < 3 {
		return rooms.Member{}, false, errMalformed("touch reply", res)
	}
	m, err := decodeMember(res[1])
	if err != nil {
		return rooms.Member{}, false, err
	}
	first, _ := res[2].(int64)
	return m, first == 1, nil
}

// Untouch implements rooms.Store with one script.
func (s *RoomStore) Untouch(ctx context.Context, w rooms.Write, code, userID, socketID string) (bool, error) {
	if err := checkPresence(userID, socketID); err != nil {
		return false, err
	}
	res, err := s.run(ctx, untouchScript, code, w.Now.UnixMilli(), userID, socketID)
	if err != nil {
		return false, err
	}
	if len(res) < 2 {
		return false, errMalformed("untouch reply", res)
	}
	last, _ := res[1].(int64)
	return last == 1, nil
}

// SweepPresence implements rooms.Store with one script.
func (s *RoomStore) SweepPresence(ctx context.Context, code string, now time.Time) ([]string, bool, error) {
	if !validCode(code) {
		return nil, true, nil
	}
	res, err := s.run(ctx, sweepPresenceScript, code, now.UnixMilli())
	if err != nil {
		return nil, false, err
	}
	if len(res) < 3 {
		return nil, false, errMalformed("sweep reply", res)
	}
	gone, _ := res[1].(int64)
	list, ok := res[2].([]any)
	if !ok {
		return nil, false, errMalformed("sweep reply", res[2])
	}
	var vanished []string
	for _, v := range list {
		id, ok := v.(string)
		if !ok {
			return nil, false, errMalformed("sweep reply", v)
		}
		vanished = append(vanished, id)
	}
	return vanished, gone == 1, nil
}

// MembersAt implements rooms.Store.
func (s *RoomStore) MembersAt(ctx context.Context, code string, now time.Time) ([]rooms.Member, error) {
	return s.members(ctx, code, now.UnixMilli())
}

// Admit implements rooms.Store with one script (lua/room_admit.lua): the
// membership check, the room hash, the roster (every member in one
// string, kept by the scripts that change the membership) and the live
// entry counts, in one round trip.
func (s *RoomStore) Admit(ctx context.Context, code, userID string, now time.Time) (rooms.Room, []rooms.Member, error) {
	res, err := s.run(ctx, admitScript, code, userID, now.UnixMilli())
	if err != nil {
		return rooms.Room{}, nil, err
	}
	if len(res) < 4 {
		return rooms.Room{}, nil, errMalformed("admit reply", res)
	}
	room, err := decodeRoomReply(res[1])
	if err != nil {
		return rooms.Room{}, nil, err
	}
	roster, ok := res[2].(string)
	if !ok {
		return rooms.Room{}, nil, errMalformed("roster", res[2])
	}
	members, err := decodeRoster(roster)
	if err != nil {
		return rooms.Room{}, nil, err
	}
	live, ok := res[3].([]any)
	if !ok || len(live)%2 != 0 {
		return rooms.Room{}, nil, errMalformed("admit counts", res[3])
	}
	if len(live) > 0 {
		at := make(map[string]int, len(members))
		for k := range members {
			at[members[k].ID] = k
		}
		for i := 0; i < len(live); i += 2 {
			id, _ := live[i].(string)
			n, _ := live[i+1].(int64)
			if k, ok := at[id]; ok {
				members[k].Sockets = int(n)
			}
		}
	}
	return room, members, nil
}

// decodeRoster decodes a roster (lua/room_lib.lua, roster_entry): per
// member, its id, displayName and joinedAt, each as <length>:<bytes>.
func decodeRoster(r string) ([]rooms.Member, error) {
	var members []rooms.Member
	field := func() (string, bool) {
		i := strings.IndexByte(r, ':')
		if i <= 0 {
			return "", false
		}
		n, err := strconv.Atoi(r[:i])
		if err != nil || n < 0 || i+1+n > len(r) {
			return "", false
		}
		v := r[i+1 : i+1+n]
		r = r[i+1+n:]
		return v, true
	}
	for len(r) > 0 {
		id, ok1 := field()
		name, ok2 := field()
		joined, ok3 := field()
		ms, err := strconv.ParseInt(joined, 10, 64)
		if !ok1 || !ok2 || !ok3 || err != nil {
			return nil, errMalformed("roster", r)
		}
		members = append(members, rooms.Member{ID: id, DisplayName: name, JoinedAt: time.UnixMilli(ms).UTC()})
	}
	return members, nil
}

// replyMillis decodes a time in unix milliseconds returned as a string.
func replyMillis(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, errMalformed("time", v)
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms).UTC(), nil
}

// TouchAll implements rooms.Store: one script per room
// (lua/room_touch_all.lua) with all of the batch's entries of that room,
// the scripts of all the rooms sent as one pipeline, so the batch costs
// one round trip however many rooms and sockets it holds. (On a Redis
// Cluster go-redis splits the pipeline per node.)
func (s *RoomStore) TouchAll(ctx context.Context, w rooms.Write, ttl time.Duration, entries []rooms.PresenceEntry) ([]rooms.TouchResult, error) {
	if ttl < time.Millisecond {
		return nil, fmt.Errorf("redis: presence TTL must be at least 1ms, got %v", ttl)
	}
	for _, e := range entries {
		if err := checkPresence(e.UserID, e.SocketID); err != nil {
			return nil, err
		}
	}
	results := make([]rooms.TouchResult, len(entries))
	// Group the entries by room, keeping their order within each room.
	type group struct {
		code string
		idx  []int
	}
	var groups []*group
	byCode := make(map[string]*group)
	for i, e := range entries {
		if !validCode(e.Code) {
			results[i].Err = rooms.ErrRoomNotFound
			continue
		}
		g := byCode[e.Code]
		if g == nil {
			g = &group{code: e.Code}
			byCode[e.Code] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	if len(groups) == 0 {
		return results, nil
	}
	args := func(g *group) []any {
		a := make([]any, 0, 2+2*len(g.idx))
		a = append(a, w.Now.UnixMilli(), ttl.Milliseconds())
		for _, i := range g.idx {
			a = append(a, entries[i].UserID, entries[i].SocketID)
		}
		return a
	}
	cmds := make([]*goredis.Cmd, len(groups))
	run := func(todo []int, eval bool) error {
		_, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range todo {
				g := groups[k]
				roomKey, usersKey := s.keys(g.code)
				if eval {
					cmds[k] = touchAllScript.Eval(ctx, p, []string{roomKey, usersKey}, args(g)...)
				} else {
					cmds[k] = touchAllScript.EvalSha(ctx, p, []string{roomKey, usersKey}, args(g)...)
				}
			}
			return nil
		})
		return err
	}
	all := make([]int, len(groups))
	for k := range all {
		all[k] = k
	}
	// Per-command errors are read below; a NOSCRIPT one means Redis does
	// not know the script yet (a restart, a failover): those rooms are
	// sent again with EVAL.
	_ = run(all, false)
	var again []int
	for k, c := range cmds {
		if err := c.Err(); err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
			again = append(again, k)
		}
	}
	if len(again) > 0 {
		_ = run(again, true)
	}
	for k, g := range groups {
		if err := decodeTouchAll(cmds[k], g.idx, entries, results); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// decodeTouchAll decodes the reply of one room's touch-all script into
// the results at idx.
func decodeTouchAll(c *goredis.Cmd, idx []int, entries []rooms.PresenceEntry, results []rooms.TouchResult) error {
	res, err := c.Slice()
	if err != nil {
		return storeError("room script", err)
	}
	if len(res) == 0 {
		return errMalformed("touch-all reply", res)
	}
	status, _ := res[0].(string)
	if status == rooms.ErrRoomNotFound.Code {
		for _, i := range idx {
			results[i].Err = rooms.ErrRoomNotFound
		}
		return nil
	}
	if status != statusOK || len(res) < 3 {
		return errMalformed("touch-all reply", res)
	}
	host, _ := res[1].(string)
	list, ok := res[2].([]any)
	if !ok || len(list) != 5*len(idx) {
		return errMalformed("touch-all entries", res[2])
	}
	for j, i := range idx {
		f := list[5*j : 5*j+5]
		okEntry, _ := f[0].(int64)
		if okEntry != 1 {
			results[i].Err = rooms.ErrMemberNotFound
			continue
		}
		first, _ := f[1].(int64)
		n, _ := f[2].(int64)
		name, _ := f[3].(string)
		joined, err := replyMillis(f[4])
		if err != nil {
			return errMalformed("touch-all entry", f)
		}
		results[i] = rooms.TouchResult{
			Member: rooms.Member{ID: entries[i].UserID, DisplayName: name, JoinedAt: joined, Sockets: int(n)},
			HostID: host,
			First:  first == 1,
		}
	}
	return nil
}
