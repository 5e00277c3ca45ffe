package transport

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// presence keeps one connected /rooms socket's presence entry live: a
// timer refreshes it every PresenceTTL/3 until the socket disconnects.
type presence struct {
	m    *roomsModule
	s    *socketio.Socket
	sess *roomSession

	mu    sync.Mutex // held by a refresh, so that stop waits for it
	timer *time.Timer
	done  bool
}

// presenceKey holds a connected /rooms socket's presence.
var presenceKey = socketio.NewKey[*presence]("transport.rooms.presence")

// connected runs the connected step of a /rooms socket: the instance
// starts sweeping its room, its presence entry is written (the room gets
// user:connected) and its refresh timer starts.
func (m *roomsModule) connected(s *socketio.Socket, sess *roomSession) {
	p := &presence{m: m, s: s, sess: sess}
	presenceKey.Set(s, p)
	m.addLocal(sess.code)
	ctx, cancel := context.WithTimeout(s.Context(), eventTimeout)
	defer cancel()
	if _, err := m.svc.SocketConnected(ctx, sess.code, sess.userID, s.ID()); err != nil {
		if !p.lost(ctx, err, "connect") {
			// The entry may not exist: the first refresh writes it.
			p.start()
		}
		return
	}
	p.start()
}

// disconnected runs the disconnected step of a /rooms socket: the refresh
// stops (after the one in flight, if any), then the presence entry is
// removed (the room gets user:disconnected for the user's last socket).
func (m *roomsModule) disconnected(s *socketio.Socket, sess *roomSession) {
	if p, ok := presenceKey.Get(s); ok {
		p.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	if err := m.svc.SocketDisconnected(ctx, sess.code, sess.userID, s.ID()); err != nil {
		m.reg.Payload(ctx, err, slog.String("event", "disconnect"))
	}
	m.removeLocal(sess.code)
}

func (p *presence) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done && p.timer == nil {
		p.timer = time.AfterFunc(p.m.ttl/3, p.refresh)
	}
}

// stop ends the refreshes for good; it returns once no refresh is running.
func (p *presence) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	if p.timer != nil {
		p.timer.Stop()
	}
}

// refresh runs on the timer's goroutine.
func (p *presence) refresh() {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return
	}
	ctx, cancel := context.WithTimeout(p.s.Context(), eventTimeout)
	defer cancel()
	err := p.m.svc.Refresh(ctx, p.sess.code, p.sess.userID, p.s.ID())
	if err != nil && p.s.Context().Err() != nil {
		// The socket is going away (its client left, or the server shuts
		// down): its disconnect removes the entry; nothing to report.
		p.mu.Unlock()
		return
	}
	final := errors.Is(err, rooms.ErrRoomNotFound) || errors.Is(err, rooms.ErrMemberNotFound)
	if !final {
		p.timer.Reset(p.m.ttl / 3) // on a store failure too: try again
	}
	p.mu.Unlock()
	if err != nil {
		p.lost(ctx, err, "refresh")
	}
}

// lost handles a failed presence write, outside p.mu (Disconnect runs
// the disconnect handler on this goroutine): a room that is gone gets the
// socket room:closed (reason EXPIRED) and disconnects it, a user who is no
// longer a member is disconnected; other failures are logged. It reports
// whether the socket was disconnected.
func (p *presence) lost(ctx context.Context, err error, event string) bool {
	switch {
	case errors.Is(err, rooms.ErrRoomNotFound):
		_ = p.s.Emit(rooms.EventClosed, map[string]any{"reason": rooms.ReasonExpired})
		p.s.Disconnect()
		return true
	case errors.Is(err, rooms.ErrMemberNotFound):
		p.s.Disconnect()
		return true
	default:
		p.m.reg.Payload(ctx, err, slog.String("event", event))
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
