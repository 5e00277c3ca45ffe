package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/rooms"
)

// DefaultPrefix is the key prefix used when a constructor is given "".
const DefaultPrefix = "rv:"

var _ rooms.Store = (*RoomStore)(nil)

// RoomStore is a rooms.Store kept in Redis, shared by every instance that
// uses the same Redis and prefix. Every mutating method is one Lua script,
// so its checks and its change are atomic. Create one with NewRoomStore; it
// is safe for concurrent use.
type RoomStore struct {
	client goredis.UniversalClient
	prefix string
	reads  *readBatcher
}

// NewRoomStore returns a RoomStore that keeps its keys under prefix (""
// means DefaultPrefix) in client. The key layout is described in the
// package documentation.
func NewRoomStore(client goredis.UniversalClient, prefix string) *RoomStore {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &RoomStore{client: client, prefix: prefix, reads: &readBatcher{client: client}}
}

// Ping checks that Redis answers.
func (s *RoomStore) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return storeError("ping", err)
	}
	return nil
}

// CreateRoom implements rooms.Store. The room and host are stored as given,
// except that zero CreatedAt, UpdatedAt and JoinedAt become w.Now, an empty
// State becomes rooms.StateCreated.
func (s *RoomStore) CreateRoom(ctx context.Context, w rooms.Write, r rooms.Room, host rooms.Member) error {
	if !validCode(r.Code) {
		return fmt.Errorf("redis: invalid room code %q", r.Code)
	}
	ttl, err := ttlMillis(w)
	if err != nil {
		return err
	}
	state := r.State
	if state == "" {
		state = rooms.StateCreated
	}
	_, err = s.run(ctx, createScript, r.Code,
		ttl,
		r.Code,
		r.HostID,
		boolString(r.IsLocked),
		r.MaxUsers,
		string(state),
		stamp(r.CreatedAt, w.Now),
		stamp(r.UpdatedAt, w.Now),
		host.DisplayName,
		stamp(host.JoinedAt, w.Now),
	)
	return err
}

// Room implements rooms.Store. It is one HGETALL; reads made while another
// is in flight share the next pipeline, without waiting for it to fill, so concurrent
// GET /rooms/{code} requests cost one round trip between them.
func (s *RoomStore) Room(ctx context.Context, code string) (rooms.Room, error) {
	if !validCode(code) {
		return rooms.Room{}, rooms.ErrRoomNotFound
	}
	roomKey, _ := s.keys(code)
	h, err := s.reads.hgetall(ctx, roomKey)
	if err != nil {
		return rooms.Room{}, storeError("read room", err)
	}
	if len(h) == 0 {
		return rooms.Room{}, rooms.ErrRoomNotFound
	}
	return decodeRoom(h)
}

// Members implements rooms.Store.
func (s *RoomStore) Members(ctx context.Context, code string) ([]rooms.Member, error) {
	return s.members(ctx, code)
}

// members runs the members script with args (none, or the time at which
// presence entries count).
func (s *RoomStore) members(ctx context.Context, code string, args ...any) ([]rooms.Member, error) {
	res, err := s.run(ctx, membersScript, code, args...)
	if err != nil {
		return nil, err
	}
	list, ok := res[1].([]any)
	if !ok {
		return nil, errMalformed("members", res[1])
	}
	members := make([]rooms.Member, 0, len(list))
	for _, item := range list {
		m, err := decodeMember(item)
		if err != nil {
			return nil, err
		}
		members = append(members, m)
	}
	return members, nil
}

// Member implements rooms.Store.
func (s *RoomStore) Member(ctx context.Context, code, userID string) (rooms.Member, error) {
	res, err := s.run(ctx, memberScript, code, userID)
	if err != nil {
		return rooms.Member{}, err
	}
	return decodeMember(res[1])
}

// Join implements rooms.Store. The member's JoinedAt is w.Now. Joining a
// room one is already a member of changes nothing but the room's expiry:
// the member keeps their place, and neither the lock nor the capacity is
// checked.
func (s *RoomStore) Join(ctx context.Context, w rooms.Write, code string, m rooms.Member) (rooms.Room, error) {
	ttl, err := ttlMillis(w)
	if err != nil {
		return rooms.Room{}, err
	}
	res, err := s.run(ctx, joinScript, code, ttl, w.Now.UnixMilli(), m.ID, m.DisplayName)
	if err != nil {
		return rooms.Room{}, err
	}
	return decodeRoomReply(res[1])
}

// Leave implements rooms.Store.
func (s *RoomStore) Leave(ctx context.Context, w rooms.Write, code, userID string, closeOnHostLeave bool) (rooms.LeaveResult, error) {
	ttl, err := ttlMillis(w)
	if err != nil {
		return rooms.LeaveResult{}, err
	}
	res, err := s.run(ctx, leaveScript, code, ttl, w.Now.UnixMilli(), userID, boolString(closeOnHostLeave), rooms.ClosedGrace.Milliseconds())
	if err != nil {
		return rooms.LeaveResult{}, err
	}
	if res[0] == statusClosed {
		return rooms.LeaveResult{Closed: true}, nil
	}
	room, err := decodeRoomReply(res[1])
	if err != nil {
		return rooms.LeaveResult{}, err
	}
	changed, _ := res[2].(int64)
	return rooms.LeaveResult{Room: room, HostChanged: changed == 1}, nil
}

// Kick implements rooms.Store.
func (s *RoomStore) Kick(ctx context.Context, w rooms.Write, code, hostID, userID string) (rooms.Room, error) {
	return s.writeRoom(ctx, kickScript, w, code, hostID, userID)
}

// ToggleLock implements rooms.Store.
func (s *RoomStore) ToggleLock(ctx context.Context, w rooms.Write, code, hostID string) (rooms.Room, error) {
	return s.writeRoom(ctx, toggleLockScript, w, code, hostID)
}

// TransferHost implements rooms.Store.
func (s *RoomStore) TransferHost(ctx context.Context, w rooms.Write, code, hostID, newHostID string) (rooms.Room, error) {
	return s.writeRoom(ctx, transferHostScript, w, code, hostID, newHostID)
}

// Close implements rooms.Store.
func (s *RoomStore) Close(ctx context.Context, code, hostID string) error {
	_, err := s.run(ctx, closeScript, code, hostID, rooms.ClosedGrace.Milliseconds())
	return err
}

// expireScript is lua/room_expire.lua, the one script of ExpireRoom.
var expireScript = roomScript("room_expire.lua")

// ExpireRoom implements rooms.Store. Redis drops the keys of an expired
// room on its own, by their TTL; ExpireRoom then finds nothing and reports
// Expired, unless the room is remembered as closed. Due is w.Now plus the
// room hash's remaining TTL.
func (s *RoomStore) ExpireRoom(ctx context.Context, w rooms.Write, code string) (rooms.ExpireResult, error) {
	ttl, err := ttlMillis(w)
	if err != nil {
		return rooms.ExpireResult{}, err
	}
	res, err := s.run(ctx, expireScript, code, ttl)
	if err != nil {
		return rooms.ExpireResult{}, err
	}
	switch res[0] {
	case statusClosed:
		return rooms.ExpireResult{Closed: true}, nil
	case statusExpired:
		return rooms.ExpireResult{Expired: true}, nil
	}
	if len(res) < 2 {
		return rooms.ExpireResult{}, errMalformed("expire reply", res)
	}
	left, ok := res[1].(int64)
	if !ok {
		return rooms.ExpireResult{}, errMalformed("expire reply", res[1])
	}
	return rooms.ExpireResult{Due: w.Now.Add(time.Duration(left) * time.Millisecond)}, nil
}

// writeRoom runs one of the scripts that take (TTL, now, args...) and
// answer with the room.
func (s *RoomStore) writeRoom(ctx context.Context, script *goredis.Script, w rooms.Write, code string, args ...any) (rooms.Room, error) {
	ttl, err := ttlMillis(w)
	if err != nil {
		return rooms.Room{}, err
	}
	res, err := s.run(ctx, script, code, append([]any{ttl, w.Now.UnixMilli()}, args...)...)
	if err != nil {
		return rooms.Room{}, err
	}
	return decodeRoomReply(res[1])
}

// Script statuses other than the Codes of rooms errors.
const (
	statusOK      = "OK"
	statusClosed  = "CLOSED"
	statusExpired = "EXPIRED" // room_expire.lua only
)

// statusErrors maps the statuses that scripts return to the rooms errors
// with that Code.
var statusErrors = byCode(
	rooms.ErrRoomNotFound,
	rooms.ErrMemberNotFound,
	rooms.ErrRoomLocked,
	rooms.ErrRoomFull,
	rooms.ErrNotHost,
	rooms.ErrAlreadyHost,
	rooms.ErrCannotKickSelf,
	rooms.ErrCodeTaken,
)

func byCode(errs ...*rv.Error) map[string]error {
	m := make(map[string]error, len(errs))
	for _, e := range errs {
		m[e.Code] = e
	}
	return m
}

// run runs a room script with the keys of room code and returns its reply,
// whose first element is statusOK or statusClosed. A status naming a rooms
// error is returned as that error.
func (s *RoomStore) run(ctx context.Context, script *goredis.Script, code string, args ...any) ([]any, error) {
	if !validCode(code) {
		return nil, rooms.ErrRoomNotFound
	}
	roomKey, usersKey := s.keys(code)
	res, err := script.Run(ctx, s.client, []string{roomKey, usersKey}, args...).Slice()
	if err != nil {
		return nil, storeError("room script", err)
	}
	if len(res) == 0 {
		return nil, errMalformed("script reply", res)
	}
	switch status, _ := res[0].(string); status {
	case statusOK, statusClosed, statusExpired:
		return res, nil
	default:
		if err, ok := statusErrors[status]; ok {
			return nil, err
		}
		return nil, errMalformed("script status", res[0])
	}
}

// keys returns the room hash and member zset keys of room code.
func (s *RoomStore) keys(code string) (room, users string) {
	room = s.prefix + "room:{" + code + "}"
	return room, room + ":users"
}

// validCode reports whether code can be put in a key: the braces of the
// hash tag must be the only ones, and a hash tag must not be empty.
func validCode(code string) bool {
	return code != "" && !strings.ContainsAny(code, "{}")
}

func ttlMillis(w rooms.Write) (int64, error) {
	if w.TTL <= 0 {
		return 0, fmt.Errorf("redis: Write.TTL must be positive, got %v", w.TTL)
	}
	ms := w.TTL.Milliseconds()
	if w.TTL%time.Millisecond != 0 {
		ms++
	}
	return ms, nil
}

// stamp returns t, or now when t is zero, in unix milliseconds.
func stamp(t, now time.Time) int64 {
	if t.IsZero() {
		t = now
	}
	return t.UnixMilli()
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func errMalformed(what string, v any) error {
	return fmt.Errorf("redis: malformed %s: %v", what, v)
}

// decodeRoomReply decodes a room hash returned by a script as HGETALL.
func decodeRoomReply(v any) (rooms.Room, error) {
	h, err := hashReply(v)
	if err != nil {
		return rooms.Room{}, err
	}
	return decodeRoom(h)
}

func decodeRoom(h map[string]string) (rooms.Room, error) {
	var errs []error
	r := rooms.Room{
		Code:      h["code"],
		HostID:    h["hostId"],
		IsLocked:  h["isLocked"] == "1",
		MaxUsers:  parseInt(h, "maxUsers", &errs),
		State:     rooms.State(h["state"]),
		CreatedAt: parseMillis(h, "createdAt", &errs),
		UpdatedAt: parseMillis(h, "updatedAt", &errs),
	}
	if len(errs) > 0 {
		return rooms.Room{}, fmt.Errorf("redis: malformed room %q: %w", r.Code, errors.Join(errs...))
	}
	return r, nil
}

// decodeMember decodes a member hash returned by a script as HGETALL.
func decodeMember(v any) (rooms.Member, error) {
	h, err := hashReply(v)
	if err != nil {
		return rooms.Member{}, err
	}
	var errs []error
	m := rooms.Member{
		ID:          h["id"],
		DisplayName: h["displayName"],
		JoinedAt:    parseMillis(h, "joinedAt", &errs),
	}
	if _, ok := h["sockets"]; ok {
		m.Sockets = parseInt(h, "sockets", &errs)
	}
	if len(errs) > 0 {
		return rooms.Member{}, fmt.Errorf("redis: malformed member %q: %w", m.ID, errors.Join(errs...))
	}
	return m, nil
}

// hashReply turns an HGETALL array into a map.
func hashReply(v any) (map[string]string, error) {
	list, ok := v.([]any)
	if !ok || len(list)%2 != 0 {
		return nil, errMalformed("hash", v)
	}
	h := make(map[string]string, len(list)/2)
	for i := 0; i < len(list); i += 2 {
		k, ok1 := list[i].(string)
		val, ok2 := list[i+1].(string)
		if !ok1 || !ok2 {
			return nil, errMalformed("hash", v)
		}
		h[k] = val
	}
	return h, nil
}

func parseInt(h map[string]string, field string, errs *[]error) int {
	n, err := strconv.Atoi(h[field])
	if err != nil {
		*errs = append(*errs, fmt.Errorf("field %s: %w", field, err))
	}
	return n
}

func parseMillis(h map[string]string, field string, errs *[]error) time.Time {
	ms, err := strconv.ParseInt(h[field], 10, 64)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("field %s: %w", field, err))
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
