package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RateLimiter counts hits per key in fixed windows kept in Redis, so every
// instance that uses the same Redis and prefix shares the same counts.
// Create one with NewRateLimiter; it is safe for concurrent use. Allow is
// exact, one round trip per hit; CountHits sends many keys' hits in one
// pipeline, for transport's local-first HTTP rate limit (see
// transport.HitCounter).
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
	res, err := countScript.Run(ctx, l.client, []string{l.prefix + "ratelimit:" + key}, ms, 1).Int64Slice()
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

// CountHits adds hits[i] hits to the window of keys[i], for every i, in one
// round trip (a pipeline of one script call per key, so that the keys may
// live on different Redis Cluster slots), and returns each key's count in
// its current window, these hits included, and the time left until that
// window ends. The windows are those of Allow: a key's window starts at its
// first hit and lasts window. Every hits[i] must be positive. It serves
// transport's local-first HTTP rate limit, which counts hits in process
// and sends them in batches.
func (l *RateLimiter) CountHits(ctx context.Context, keys []string, hits []int64, window time.Duration) (counts []int64, left []time.Duration, err error) {
	if window <= 0 {
		return nil, nil, errors.New("redis: rate limit window must be positive")
	}
	if len(keys) != len(hits) {
		return nil, nil, errors.New("redis: CountHits needs one hit count per key")
	}
	for _, n := range hits {
		if n <= 0 {
			return nil, nil, errors.New("redis: CountHits needs positive hit counts")
		}
	}
	if len(keys) == 0 {
		return nil, nil, nil
	}
	ms := window.Milliseconds()
	if window%time.Millisecond != 0 {
		ms++
	}
	cmds := make([]*goredis.Cmd, len(keys))
	run := func(pending []int, eval func(pipe goredis.Pipeliner, i int) *goredis.Cmd) error {
		pipe := l.client.Pipeline()
		for _, i := range pending {
			cmds[i] = eval(pipe, i)
		}
		_, err := pipe.Exec(ctx)
		return err
	}
	all := make([]int, len(keys))
	for i := range all {
		all[i] = i
	}
	key := func(i int) []string { return []string{l.prefix + "ratelimit:" + keys[i]} }
	err = run(all, func(pipe goredis.Pipeliner, i int) *goredis.Cmd {
		return countScript.EvalSha(ctx, pipe, key(i), ms, hits[i])
	})
	if err != nil {
		// A script cache without the script (a restarted or flushed
		// server): send its source for the calls refused so.
		var noscript []int
		for i, c := range cmds {
			if goredis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
				noscript = append(noscript, i)
			}
		}
		if len(noscript) > 0 {
			err = run(noscript, func(pipe goredis.Pipeliner, i int) *goredis.Cmd {
				return countScript.Eval(ctx, pipe, key(i), ms, hits[i])
			})
		}
	}
	if err != nil {
		for _, c := range cmds {
			if c.Err() != nil {
				return nil, nil, storeError("rate limit", c.Err())
			}
		}
		return nil, nil, storeError("rate limit", err)
	}
	counts = make([]int64, len(keys))
	left = make([]time.Duration, len(keys))
	for i, c := range cmds {
		res, err := c.Int64Slice()
		if err != nil {
			return nil, nil, storeError("rate limit", err)
		}
		if len(res) != 2 {
			return nil, nil, errMalformed("rate limit reply", res)
		}
		counts[i] = res[0]
		left[i] = max(time.Duration(res[1])*time.Millisecond, time.Millisecond)
	}
	return counts, left, nil
}
