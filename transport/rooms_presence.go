package transport

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/rendezvous-go/rendezvous/rooms"
)

// refreshChunk bounds the sockets of one rooms.Service.RefreshAll call
// (one store round trip) when the instance refreshes its sockets.
const refreshChunk = 1024

// refreshBatch is one run of the instance's presence refresh; done is
// closed once its store writes are over.
type refreshBatch struct {
	done chan struct{}
}

// connected runs the connected step of a /rooms socket: the instance
// starts sweeping its room, its presence entry is written (the room gets
// user:connected) and the socket joins the instance's refreshes.
func (m *roomsModule) connected(sess *roomSession) {
	m.addLocal(sess.code)
	// Not derived from the socket's context: a context derived from it
	// would stay registered on the socket (its Done channel, and the
	// slot of its AfterFunc) for the socket's whole life, a few hundred
	// bytes of every idle socket. A socket that goes away meanwhile is
	// handled by its disconnect, queued behind this step.
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	_, err := m.svc.SocketConnected(ctx, sess.code, sess.userID, sess.s.ID())
	if err != nil && m.lost(ctx, sess, err, "connect", false) {
		return
	}
	// On a store failure too: the entry may not exist, the next refresh
	// writes it. (And a room closed while the socket connected: its
	// closer's room:closed is on its way; a refresh disconnects the socket
	// if it is still there.)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.present[sess] = struct{}{}
	if m.refresh == nil {
		m.refresh = time.AfterFunc(m.ttl/3, m.refreshAll)
	}
}

// disconnected runs the disconnected step of a /rooms socket: it leaves
// the refreshes (after the one in flight, if any, has written), then its
// presence entry is removed (the room gets user:disconnected for the
// user's last socket).
func (m *roomsModule) disconnected(sess *roomSession) {
	m.mu.Lock()
	delete(m.present, sess)
	sess.gone = true
	b := sess.batch
	m.mu.Unlock()
	if b != nil {
		<-b.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	if err := m.svc.SocketDisconnected(ctx, sess.code, sess.userID, sess.s.ID()); err != nil {
		m.reg.Payload(ctx, err, slog.String("event", "disconnect"))
	}
	m.removeLocal(sess.code)
}

// refreshAll runs on the refresh timer's goroutine, every PresenceTTL/3
// while the instance has connected /rooms sockets: it renews the presence
// entry of every one of them, refreshChunk sockets per store round trip
// (rooms.Service.RefreshAll) instead of one timer and one round trip per
// socket. A disconnect that comes meanwhile waits for the batch's writes
// before it removes its entry, so no refresh outlives a socket's removal.
func (m *roomsModule) refreshAll() {
	b := &refreshBatch{done: make(chan struct{})}
	m.mu.Lock()
	batch := make([]*roomSession, 0, len(m.present))
	for sess := range m.present {
		sess.batch = b
		batch = append(batch, sess)
	}
	m.mu.Unlock()

	type loss struct {
		sess *roomSession
		err  error
	}
	var (
		losses  []loss
		failed  int
		lastErr error
		entries = make([]rooms.PresenceEntry, 0, min(len(batch), refreshChunk))
		chunk   = make([]*roomSession, 0, cap(entries))
	)
	for start := 0; start < len(batch); start += refreshChunk {
		entries, chunk = entries[:0], chunk[:0]
		m.mu.Lock()
		for _, sess := range batch[start:min(start+refreshChunk, len(batch))] {
			if !sess.gone {
				chunk = append(chunk, sess)
				entries = append(entries, rooms.PresenceEntry{Code: sess.code, UserID: sess.userID, SocketID: sess.s.ID()})
			}
		}
		m.mu.Unlock()
		if len(entries) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
		errs := m.svc.RefreshAll(ctx, entries)
		cancel()
		for i, err := range errs {
			if err == nil || chunk[i].s.Context().Err() != nil {
				// Renewed, or the socket is going away (its client left, or
				// the server shuts down): its disconnect removes the entry.
				continue
			}
			if errors.Is(err, rooms.ErrRoomNotFound) || errors.Is(err, rooms.ErrMemberNotFound) {
				losses = append(losses, loss{chunk[i], err})
				continue
			}
			failed, lastErr = failed+1, err // tried again at the next refresh
		}
	}

	m.mu.Lock()
	for _, sess := range batch {
		if sess.batch == b {
			sess.batch = nil
		}
	}
	close(b.done)
	for _, l := range losses {
		delete(m.present, l.sess) // a final answer: no more refreshes
	}
	if len(m.present) == 0 {
		m.refresh = nil
	} else {
		m.refresh.Reset(m.ttl / 3)
	}
	m.mu.Unlock()

	if failed > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
		m.reg.Payload(ctx, lastErr, slog.String("event", "refresh"), slog.Int("sockets", failed))
		cancel()
	}
	// The rooms found gone are ended once each (rooms.Service.RoomGone),
	// however many of their sockets this instance has.
	ended := make(map[string]roomEnd)
	for _, l := range losses {
		ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
		m.lostIn(ctx, l.sess, l.err, "refresh", true, ended)
		cancel()
	}
}

// roomEnd is what rooms.Service.RoomGone answered for a room.
type roomEnd struct {
	expired bool
	err     error
}

// lost handles a failed presence write (Disconnect may run the disconnect
// handler on this goroutine, so no lock may be held). A room that is gone
// is ended by rooms.Service.RoomGone: one that expired gets room:closed
// (reason EXPIRED) with a disconnect, through the Broker; one that was
// closed was told so by its closer, so the socket is only disconnected,
// and only when final (a refresh; in the connected step the closer's
// room:closed may still be on its way to it, and the next refresh
// disconnects it). When RoomGone fails the socket gets room:closed
// EXPIRED directly and is disconnected. A user who is no longer a member
// is disconnected; other failures are logged. lost reports whether the
// socket is done with (disconnected, or about to be).
func (m *roomsModule) lost(ctx context.Context, sess *roomSession, err error, event string, final bool) bool {
	return m.lostIn(ctx, sess, err, event, final, nil)
}

// lostIn is lost with the answers of RoomGone already had for some rooms
// (ended, when not nil, remembers them).
func (m *roomsModule) lostIn(ctx context.Context, sess *roomSession, err error, event string, final bool, ended map[string]roomEnd) bool {
	switch {
	case errors.Is(err, rooms.ErrRoomNotFound):
		end, ok := ended[sess.code]
		if !ok {
			end.expired, end.err = m.svc.RoomGone(ctx, sess.code)
			if ended != nil {
				ended[sess.code] = end
			}
		}
		expired, gerr := end.expired, end.err
		switch {
		case gerr != nil:
			m.reg.Payload(ctx, gerr, slog.String("event", event))
			_ = sess.s.Emit(rooms.EventClosed, map[string]any{"reason": rooms.ReasonExpired})
			sess.s.Disconnect()
		case expired:
		case final:
			sess.s.Disconnect()
		default:
			return false
		}
		return true
	case errors.Is(err, rooms.ErrMemberNotFound):
		sess.s.Disconnect()
		return true
	default:
		m.reg.Payload(ctx, err, slog.String("event", event))
		return false
	}
}

// addLocal counts one more socket of this instance in room code and
// starts the sweeps if they were not running.
func (m *roomsModule) addLocal(code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.local[code]++
	if m.sweep == nil {
		m.sweep = time.AfterFunc(m.ttl/2, m.sweepLocal)
	}
}

// removeLocal counts one socket fewer in room code; the sweeps stop after
// the last room is gone from the count.
func (m *roomsModule) removeLocal(code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.local[code]--; m.local[code] <= 0 {
		delete(m.local, code)
	}
}

// sweepLocal runs on the sweep timer's goroutine: it sweeps every room
// this instance has sockets in (rooms.Service.Sweep), then schedules the
// next sweep while there are any.
func (m *roomsModule) sweepLocal() {
	m.mu.Lock()
	codes := make([]string, 0, len(m.local))
	for code := range m.local {
		codes = append(codes, code)
	}
	m.mu.Unlock()
	for _, code := range codes {
		ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
		if err := m.svc.Sweep(ctx, code); err != nil {
			m.reg.Payload(ctx, err, slog.String("event", "sweep"), slog.String("room", code))
		}
		cancel()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.local) == 0 {
		m.sweep = nil
		return
	}
	m.sweep.Reset(m.ttl / 2)
}
