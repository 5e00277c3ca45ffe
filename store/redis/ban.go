package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/moderation"
)

var _ moderation.BanStore = (*BanStore)(nil)

// banScript is lua/ban_set.lua: a ban unless one is in force.
var banScript = goredis.NewScript(luaSource("ban_set.lua"))

// BanStore is a moderation.BanStore kept in Redis, shared by every
// instance that uses the same Redis and prefix. Create one with
// NewBanStore; it is safe for concurrent use.
//
// Keys: <prefix>ban:{<userId>} holds a ban's until in Unix milliseconds
// and expires at until (PX); <prefix>hive:delivery:<key> marks a seen
// webhook delivery for its TTL. Ban is one script (a ban in force is
// returned, never replaced) and SeeDelivery one SET NX PX, so both are
// atomic across instances. Whether a ban is in force is decided by the
// now passed in against the stored until, so callers' clocks rule, and
// Redis's TTL only frees the memory.
type BanStore struct {
	client goredis.UniversalClient
	prefix string
}

// NewBanStore returns a BanStore that keeps its keys under prefix (""
// means DefaultPrefix) in client.
func NewBanStore(client goredis.UniversalClient, prefix string) *BanStore {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &BanStore{client: client, prefix: prefix}
}

func (s *BanStore) banKey(userID string) string { return s.prefix + "ban:{" + userID + "}" }

func (s *BanStore) deliveryKey(key string) string { return s.prefix + "hive:delivery:" + key }

func parseUntil(v string) (time.Time, error) {
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("redis: malformed ban until %q", v)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// Ban implements moderation.BanStore. until is kept to the millisecond; it
// must be after now.
func (s *BanStore) Ban(ctx context.Context, userID string, until, now time.Time) (moderation.Ban, bool, error) {
	if until.UnixMilli() <= now.UnixMilli() {
		return moderation.Ban{}, false, errors.New("redis: a ban must end after now")
	}
	res, err := banScript.Run(ctx, s.client, []string{s.banKey(userID)}, until.UnixMilli(), now.UnixMilli()).Slice()
	if err != nil {
		return moderation.Ban{}, false, storeError("ban", err)
	}
	if len(res) != 2 {
		return moderation.Ban{}, false, fmt.Errorf("redis: ban: unexpected reply %v", res)
	}
	created, _ := res[0].(int64)
	v, _ := res[1].(string)
	u, err := parseUntil(v)
	if err != nil {
		return moderation.Ban{}, false, err
	}
	return moderation.Ban{UserID: userID, Until: u}, created == 1, nil
}

// Get implements moderation.BanStore.
func (s *BanStore) Get(ctx context.Context, userID string, now time.Time) (moderation.Ban, bool, error) {
	v, err := s.client.Get(ctx, s.banKey(userID)).Result()
	if errors.Is(err, goredis.Nil) {
		return moderation.Ban{}, false, nil
	}
	if err != nil {
		return moderation.Ban{}, false, storeError("read ban", err)
	}
	u, err := parseUntil(v)
	if err != nil {
		return moderation.Ban{}, false, err
	}
	if u.UnixMilli() <= now.UnixMilli() {
		return moderation.Ban{}, false, nil
	}
	return moderation.Ban{UserID: userID, Until: u}, true, nil
}

// Lift implements moderation.BanStore: it deletes the ban's key and
// reports whether there was one.
func (s *BanStore) Lift(ctx context.Context, userID string) (bool, error) {
	n, err := s.client.Del(ctx, s.banKey(userID)).Result()
	if err != nil {
		return false, storeError("lift ban", err)
	}
	return n > 0, nil
}

// SeeDelivery implements moderation.BanStore with SET NX PX; ttl is
// rounded up to whole milliseconds.
func (s *BanStore) SeeDelivery(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("redis: delivery TTL must be positive")
	}
	ms := ttl.Milliseconds()
	if ttl%time.Millisecond != 0 {
		ms++
	}
	err := s.client.SetArgs(ctx, s.deliveryKey(key), "1", goredis.SetArgs{Mode: "NX", TTL: time.Duration(ms) * time.Millisecond}).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, goredis.Nil):
		return false, nil
	}
	return false, storeError("see delivery", err)
}
