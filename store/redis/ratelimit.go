package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RateLimiter counts hits per key in fixed windows kept in Redis, so every
// instance that uses the same Redis and prefix shares the same counts.
// Create one with NewRateLimiter; it is safe for concurrent use.
type RateLimiter struct {
	client goredis.UniversalClient
	prefix string
}

// NewRateLimiter returns a RateLimiter that keeps its counters under
// prefix ("" means DefaultPrefix) in client, one key per limited key:
// <prefix>ratelimit:<key>, expiring with its window.
func NewRateLimiter(client goredis.UniversalClient, prefix string) *RateLimiter {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &RateLimiter{client: client, prefix: prefix}
}

// Allow counts one hit for key. A key's window starts at its first hit and
// lasts window; within it the first limit hits are allowed. A hit beyond the
// limit is refused with retryAfter, the time left until the window ends
// (always positive, with millisecond precision). A limit below 1 refuses
// every hit. window must be positive; it is rounded up to whole
// milliseconds.
func (l *RateLimiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error) {
	if window <= 0 {
		return false, 0, errors.New("redis: rate limit window must be positive")
	}
	ms := window.Milliseconds()
	if window%time.Millisecond != 0 {
		ms++
	}
	res, err := allowScript.Run(ctx, l.client, []string{l.prefix + "ratelimit:" + key}, ms).Int64Slice()
	if err != nil {
		return false, 0, storeError("rate limit", err)
	}
	if len(res) != 2 {
		return false, 0, errMalformed("rate limit reply", res)
	}
	if res[0] <= int64(limit) {
		return true, 0, nil
	}
	return false, max(time.Duration(res[1])*time.Millisecond, time.Millisecond), nil
}
