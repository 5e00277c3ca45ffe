package matchmaking

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// SocketConnected records socketID of userID as present on /queue, until
// PresenceTTL without a refresh, and moves the user's disconnect-grace job
// to PresenceTTL+DisconnectGrace ahead: a grace running since a
// disconnect no longer fires at its time, so a reload within
// DisconnectGrace keeps the user's place, and a user whose instance dies
// before its first refresh is still taken out once the presence has run
// out. It returns the notice left for the user while they were away (they
// were taken out of the queue), which the transport emits to this socket
// as EventLeft, or nil.
func (s *Service) SocketConnected(ctx context.Context, userID, socketID string) (*Notice, error) {
	now := s.now()
	if err := s.cfg.Store.TouchSocket(ctx, userID, socketID, now.Add(s.cfg.PresenceTTL)); err != nil {
		return nil, err
	}
	if err := s.scheduleGrace(ctx, userID, now.Add(s.cfg.PresenceTTL+s.cfg.DisconnectGrace)); err != nil {
		return nil, err
	}
	n, ok, err := s.cfg.Store.TakeNotice(ctx, userID)
	if err != nil || !ok {
		return nil, err
	}
	return &n, nil
}

// SocketRefresh extends socketID's presence by PresenceTTL, and moves the
// user's disconnect-grace job to PresenceTTL+DisconnectGrace from now, so
// that a user whose instance died (and whose sockets therefore never
// disconnect) is still taken out, with a refund, once the presence has
// run out and the grace has passed. The transport calls it every
// PresenceTTL/3 per socket.
func (s *Service) SocketRefresh(ctx context.Context, userID, socketID string) error {
	now := s.now()
	if err := s.cfg.Store.TouchSocket(ctx, userID, socketID, now.Add(s.cfg.PresenceTTL)); err != nil {
		return err
	}
	return s.scheduleGrace(ctx, userID, now.Add(s.cfg.PresenceTTL+s.cfg.DisconnectGrace))
}

// SocketDisconnected forgets socketID; when it was userID's last present
// /queue socket, the disconnect-grace job is scheduled DisconnectGrace
// from now.
func (s *Service) SocketDisconnected(ctx context.Context, userID, socketID string) error {
	now := s.now()
	live, err := s.cfg.Store.DropSocket(ctx, userID, socketID, now)
	if err != nil || live > 0 {
		return err
	}
	return s.scheduleGrace(ctx, userID, now.Add(s.cfg.DisconnectGrace))
}

func (s *Service) scheduleGrace(ctx context.Context, userID string, due time.Time) error {
	if s.cfg.Scheduler == nil {
		return nil
	}
	payload, err := json.Marshal(userID)
	if err != nil {
		return err
	}
	return s.cfg.Scheduler.Schedule(ctx, rv.Job{Key: GraceJobKey(userID), Kind: GraceJobKind, Due: due, Payload: payload})
}

// HandleGrace is the handler of GraceJobKind jobs (payload: the user id
// as a JSON string). A user with a present /queue socket, or who is not
// waiting, is left alone; a waiting user is taken out of the queue with a
// refund, and a Notice (ReasonDisconnected) is kept for their next socket.
// It is idempotent, as a job handler must be.
func (s *Service) HandleGrace(ctx context.Context, job rv.Job) error {
	var userID string
	if err := json.Unmarshal(job.Payload, &userID); err != nil || userID == "" {
		s.cfg.Logger.Error("matchmaking: malformed grace job", "key", job.Key, "err", err)
		return nil
	}
	live, err := s.cfg.Store.LiveSockets(ctx, userID, s.now())
	if err != nil {
		return err
	}
	if live > 0 {
		return nil
	}
	e, removed, err := s.cfg.Store.Remove(ctx, userID)
	if err != nil || !removed {
		return err
	}
	// The notice is kept before the refund, so that a client that sees its
	// token back and reconnects finds it. Refunded is true as for Leave:
	// the token comes back now or through the durable refund job.
	if err := s.cfg.Store.PutNotice(ctx, userID, Notice{Reason: ReasonDisconnected, Refunded: true}); err != nil {
		s.cfg.Logger.Warn("matchmaking: grace notice lost", "user", userID, "err", err)
	}
	if err := s.refundOrSchedule(ctx, e.DebitKey); err != nil {
		return fmt.Errorf("matchmaking: refund of %s after the grace: %w", userID, err)
	}
	return nil
}
