package redis

import (
	"context"

	"github.com/rendezvous-go/rendezvous/matchmaking"
)

// FillQueue reserves and activates entries, in order, pipelined in
// batches: the benchmarks' fast way to queue many users. Each entry's
// DebitKey must be set.
func FillQueue(ctx context.Context, s *QueueStore, entries []matchmaking.Entry) error {
	if err := queueReserveScript.Load(ctx, s.client).Err(); err != nil {
		return err
	}
	if err := queueActivateScript.Load(ctx, s.client).Err(); err != nil {
		return err
	}
	const batch = 2000
	for len(entries) > 0 {
		n := min(batch, len(entries))
		pipe := s.client.Pipeline()
		for _, e := range entries[:n] {
			queueReserveScript.EvalSha(ctx, pipe, s.ready, e.UserID, e.QueueKey, e.DebitKey, e.JoinedAt.UnixMilli())
			queueActivateScript.EvalSha(ctx, pipe, s.ready, e.UserID, e.DebitKey)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		entries = entries[n:]
	}
	return nil
}
