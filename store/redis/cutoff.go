package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/auth"
)

var _ auth.CutoffStore = (*CutoffStore)(nil)

// setCutoffScript keeps the later of the stored and the given cut-off.
//
// KEYS[1]  <prefix>auth:cutoff:<userID>
// ARGV[1]  cut-off, Unix milliseconds
// ARGV[2]  TTL in milliseconds
var setCutoffScript = goredis.NewScript(`
local cur = tonumber(redis.call('get', KEYS[1]) or '0') or 0
local at = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
if at > cur then
    redis.call('set', KEYS[1], ARGV[1], 'px', ttl)
else
    local left = redis.call('pttl', KEYS[1])
    if left < ttl then
        redis.call('pexpire', KEYS[1], ttl)
    end
end
return 1
`)

// CutoffStore is an auth.CutoffStore kept in Redis, shared by every
// instance that uses the same Redis and prefix: one key per user,
// <prefix>auth:cutoff:<userID>, holding the cut-off in Unix milliseconds
// and expiring with the access-token lifetime (no token issued before the
// cut-off outlives it). Create one with NewCutoffStore; it is safe for
// concurrent use.
type CutoffStore struct {
	client goredis.UniversalClient
	prefix string
}

// NewCutoffStore returns a CutoffStore that keeps its keys under prefix
// ("" means DefaultPrefix) in client.
func NewCutoffStore(client goredis.UniversalClient, prefix string) *CutoffStore {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &CutoffStore{client: client, prefix: prefix}
}

func (s *CutoffStore) key(userID string) string { return s.prefix + "auth:cutoff:" + userID }

// SetCutoff implements auth.CutoffStore, atomically: an earlier cut-off
// than the stored one leaves it in place, and the key's TTL only grows.
// ttl is rounded up to whole milliseconds.
func (s *CutoffStore) SetCutoff(ctx context.Context, userID string, t time.Time, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("redis: cut-off TTL must be positive")
	}
	ms := ttl.Milliseconds()
	if ttl%time.Millisecond != 0 {
		ms++
	}
	if err := setCutoffScript.Run(ctx, s.client, []string{s.key(userID)}, t.UnixMilli(), ms).Err(); err != nil {
		return storeError("set cut-off", err)
	}
	return nil
}

// Cutoff implements auth.CutoffStore.
func (s *CutoffStore) Cutoff(ctx context.Context, userID string) (time.Time, error) {
	v, err := s.client.Get(ctx, s.key(userID)).Result()
	if errors.Is(err, goredis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, storeError("read cut-off", err)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("redis: malformed cut-off %q", v)
	}
	return time.UnixMilli(ms).UTC(), nil
}
