package socketio

import (
	"sync"
	"time"
)

// heartbeats schedules the Engine.IO heartbeat of all the connections of a
// Server with one timer instead of one per connection: time is cut into
// ticks, each connection is filed under the tick at or after which its next
// heartbeat step is due (a ping, or the end of the wait for its pong), and
// the timer, armed only while some connection is filed, runs the due ticks.
// A step is therefore never early and at most about one tick (plus the
// timer's own latency) late; the tick is an eighth of the shorter of
// PingInterval and PingTimeout, capped at maxHeartbeatTick.
//
// A connection is filed at most once: conn.hbTick and conn.hbPos (its tick
// and its position in that tick's list), guarded by heartbeats.mu, let it
// be moved or removed in constant time. heartbeats.mu is taken after
// conn.mu, never before.
type heartbeats struct {
	tick time.Duration
	base time.Time // tick 0; ticks are counted on the monotonic clock

	mu    sync.Mutex
	slots map[int64][]*conn
	timer *time.Timer
	next  int64 // the tick the timer is armed for; 0: not armed
}

// maxHeartbeatTick bounds the lateness of a heartbeat step.
const maxHeartbeatTick = 500 * time.Millisecond

func newHeartbeats(pingInterval, pingTimeout time.Duration) *heartbeats {
	tick := min(pingInterval, pingTimeout) / 8
	tick = max(min(tick, maxHeartbeatTick), time.Millisecond)
	return &heartbeats{tick: tick, base: time.Now(), slots: make(map[int64][]*conn)}
}

// now returns the scheduler's clock: nanoseconds since base, on the
// monotonic clock.
func (h *heartbeats) now() int64 { return int64(time.Since(h.base)) }

// tickOf returns the first tick at or after t, a time of h.now's clock
// (never 0).
func (h *heartbeats) tickOf(t int64) int64 {
	k := (t + int64(h.tick) - 1) / int64(h.tick)
	return max(k, 1)
}

// schedule files c under the tick of due, moving it if it was filed under
// another one. c.mu must be held.
func (h *heartbeats) schedule(c *conn, due int64) {
	k := h.tickOf(due)
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.hbTick == k {
		return
	}
	h.removeLocked(c)
	l := append(h.slots[k], c)
	h.slots[k] = l
	c.hbTick, c.hbPos = k, int32(len(l))
	if h.next == 0 || k < h.next {
		h.armLocked(k)
	}
}

// armLocked sets the timer for tick k. h.mu must be held.
func (h *heartbeats) armLocked(k int64) {
	h.next = k
	d := time.Duration(k)*h.tick - time.Duration(h.now())
	if h.timer == nil {
		h.timer = time.AfterFunc(d, h.run)
	} else {
		h.timer.Reset(d)
	}
}

// unschedule removes c, if it is filed.
func (h *heartbeats) unschedule(c *conn) {
	h.mu.Lock()
	h.removeLocked(c)
	h.mu.Unlock()
}

func (h *heartbeats) removeLocked(c *conn) {
	if c.hbTick == 0 {
		return
	}
	l := h.slots[c.hbTick]
	j, last := int(c.hbPos)-1, len(l)-1
	if j != last {
		t := l[last]
		l[j] = t
		t.hbPos = int32(j + 1)
	}
	l[last] = nil
	if last == 0 {
		delete(h.slots, c.hbTick)
	} else {
		h.slots[c.hbTick] = l[:last]
	}
	c.hbTick, c.hbPos = 0, 0
}

// run takes the connections of the ticks that are due and runs their
// heartbeat step; it re-arms the timer for the earliest tick still filed,
// if any.
func (h *heartbeats) run() {
	now := h.now()
	cur := now / int64(h.tick)
	var due []*conn
	var next int64
	h.mu.Lock()
	for k, l := range h.slots {
		if k > cur {
			if next == 0 || k < next {
				next = k
			}
			continue
		}
		for _, c := range l {
			c.hbTick, c.hbPos = 0, 0
		}
		due = append(due, l...)
		delete(h.slots, k)
	}
	if next == 0 {
		h.next = 0
	} else {
		h.armLocked(next)
	}
	h.mu.Unlock()
	for _, c := range due {
		c.onHeartbeat(now)
	}
}
