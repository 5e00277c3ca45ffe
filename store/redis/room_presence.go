package redis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rendezvous-go/rendezvous/rooms"
)

// The presence scripts, one per operation.
var (
	touchScript         = roomScript("room_touch.lua")
	untouchScript       = roomScript("room_untouch.lua")
	sweepPresenceScript = roomScript("room_sweep_presence.lua")
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
