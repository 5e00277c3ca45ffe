package redis

import (
	"context"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// maxReadBatch bounds the reads one pipeline carries.
const maxReadBatch = 128

// readBatcher coalesces concurrent reads of whole hashes (HGETALL) into one
// pipeline: a read that finds no pipeline in flight sends its own at once,
// alone, as a plain command; reads that arrive while a pipeline is in
// flight wait for it to return and then go together, in the next one. So a
// read is still exactly one Redis round trip and never waits for a batch to
// fill, and under concurrent load one round trip (one write and one read
// system call on each side) serves many requests. It holds no goroutine
// while idle: the read that finds the pipeline free sends it, and a new
// goroutine sends the next batch only when reads queued behind it.
type readBatcher struct {
	client goredis.UniversalClient

	mu      sync.Mutex
	queue   []*hashRead
	running bool
}

type hashRead struct {
	ctx  context.Context
	key  string
	res  map[string]string
	err  error
	done chan struct{}
}

// hgetall reads the hash at key, sharing a pipeline with the reads made at
// the same time. It returns go-redis' error as is.
func (b *readBatcher) hgetall(ctx context.Context, key string) (map[string]string, error) {
	b.mu.Lock()
	if !b.running {
		// Nothing in flight: send this read alone, now.
		b.running = true
		b.mu.Unlock()
		res, err := b.client.HGetAll(ctx, key).Result()
		b.next()
		return res, err
	}
	r := &hashRead{ctx: ctx, key: key, done: make(chan struct{})}
	b.queue = append(b.queue, r)
	b.mu.Unlock()
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		// The batch still runs for the others; this caller goes.
		return nil, ctx.Err()
	}
}

// next sends the reads queued while a round trip was in flight, in a new
// goroutine so that the caller that made that round trip is not held, or
// marks the batcher idle.
func (b *readBatcher) next() {
	b.mu.Lock()
	if len(b.queue) == 0 {
		b.running = false
		b.mu.Unlock()
		return
	}
	batch := b.queue[:min(len(b.queue), maxReadBatch)]
	b.queue = b.queue[len(batch):]
	if len(b.queue) == 0 {
		b.queue = nil
	}
	b.mu.Unlock()
	go func() {
		b.send(batch)
		b.next()
	}()
}

// send reads batch in one pipeline and hands each caller its result. The
// pipeline runs under the first read's context values but no caller's
// cancellation: a caller that gives up does not fail the others.
func (b *readBatcher) send(batch []*hashRead) {
	ctx := context.WithoutCancel(batch[0].ctx)
	pipe := b.client.Pipeline()
	cmds := make([]*goredis.MapStringStringCmd, len(batch))
	for i, r := range batch {
		cmds[i] = pipe.HGetAll(ctx, r.key)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	for i, r := range batch {
		r.res, r.err = cmds[i].Result()
		close(r.done)
	}
}
