package transport

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"

	rv "github.com/rendezvous-go/rendezvous"
)

// fanoutQueueLimit bounds the events waiting for one target.
const fanoutQueueLimit = 4096

// fanoutFreeQueues bounds the emptied target queues kept for reuse, so that
// an event for a target with nothing queued (the usual case) allocates no
// queue; only queues of at most fanoutFreeQueueCap events are kept.
const (
	fanoutFreeQueues   = 64
	fanoutFreeQueueCap = 64
)

// fanout hands the events the Broker delivers to the local sockets, fairly
// between targets. Events are queued per target (namespace and Socket.IO
// room); a few workers take the targets that have events round-robin, one
// event per turn. So:
//
//   - the events of one target are delivered in order, by one worker at a
//     time;
//   - a target with one event waits, per worker, for at most one event of
//     each busier target: a flooded room never delays the others for
//     longer than a turn;
//   - a target's queue holds at most fanoutQueueLimit events: beyond that
//     the oldest is dropped (and logged). Its disconnection, when it asked
//     for one, is never lost: it happens before the next event of that
//     target.
//
// Order between different targets is not kept, which no client can
// observe on one target.
type fanout struct {
	deliver func(rv.Event)
	limit   int
	workers int
	log     *slog.Logger

	mu      sync.Mutex
	cond    sync.Cond
	queues  map[targetKey]*targetQueue
	ready   []*targetQueue // targets with work, in turn order; not those a worker holds
	free    []*targetQueue // emptied queues, for reuse
	started bool
	stopped bool
	wg      sync.WaitGroup
}

// targetKey identifies a target: a namespace and a Socket.IO room.
type targetKey struct{ namespace, target string }

// targetQueue is the backlog of one target: a ring of events.
type targetQueue struct {
	key targetKey

	buf        []rv.Event
	head, n    int
	scheduled  bool // in ready, or held by a worker
	disconnect bool // a dropped event asked for a disconnection
	warned     bool // the overflow has been logged
}

func newFanout(deliver func(rv.Event), workers, limit int, log *slog.Logger) *fanout {
	if workers <= 0 {
		workers = max(4, runtime.GOMAXPROCS(0))
	}
	f := &fanout{deliver: deliver, limit: limit, workers: workers, log: log, queues: make(map[targetKey]*targetQueue)}
	f.cond.L = &f.mu
	return f
}

// start launches the workers.
func (f *fanout) start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		return
	}
	f.started, f.stopped = true, false
	f.wg.Add(f.workers)
	for range f.workers {
		go f.work()
	}
}

// stop drops what is still queued, lets each worker finish the event it is
// delivering and waits for them. Events enqueued afterwards are dropped
// until start is called again.
func (f *fanout) stop() {
	f.mu.Lock()
	f.stopped, f.started = true, false
	clear(f.queues)
	clear(f.ready)
	f.ready = nil
	f.cond.Broadcast()
	f.mu.Unlock()
	f.wg.Wait()
}

// enqueue queues ev for its target. It never blocks on delivery, so the
// Broker's delivery goroutine is never held by a slow target.
func (f *fanout) enqueue(ev rv.Event) {
	key := targetKey{ev.Namespace, ev.Target}
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return
	}
	q := f.queues[key]
	if q == nil {
		if n := len(f.free); n > 0 {
			q = f.free[n-1]
			f.free[n-1] = nil
			f.free = f.free[:n-1]
			q.key = key
		} else {
			q = &targetQueue{key: key}
		}
		f.queues[key] = q
	}
	overflow := q.push(ev, f.limit)
	logIt := overflow && !q.warned
	if logIt {
		q.warned = true
	}
	if !q.scheduled {
		q.scheduled = true
		f.ready = append(f.ready, q)
		f.cond.Signal()
	}
	f.mu.Unlock()
	if logIt {
		f.log.Warn("event fan-out queue full: dropping the oldest events of this target",
			"namespace", ev.Namespace, "target", ev.Target, "limit", f.limit)
	}
}

func (f *fanout) work() {
	defer f.wg.Done()
	for {
		f.mu.Lock()
		for len(f.ready) == 0 && !f.stopped {
			f.cond.Wait()
		}
		if f.stopped {
			f.mu.Unlock()
			return
		}
		q := f.ready[0]
		f.ready[0] = nil
		f.ready = f.ready[1:]
		var ev rv.Event
		if q.disconnect {
			q.disconnect = false
			ev = rv.Event{Namespace: q.key.namespace, Target: q.key.target, Disconnect: true}
		} else {
			ev = q.pop()
		}
		f.mu.Unlock()

		f.run(ev)

		f.mu.Lock()
		switch {
		case f.stopped:
		case q.n > 0 || q.disconnect:
			f.ready = append(f.ready, q) // back of the line
			f.cond.Signal()
		default:
			delete(f.queues, q.key)
			if len(f.free) < fanoutFreeQueues && len(q.buf) <= fanoutFreeQueueCap {
				*q = targetQueue{buf: q.buf} // its events were cleared by pop
				f.free = append(f.free, q)
			} else {
				q.scheduled = false
			}
		}
		f.mu.Unlock()
	}
}

// run delivers one event; a panic is logged and the worker goes on.
func (f *fanout) run(ev rv.Event) {
	defer func() {
		if p := recover(); p != nil {
			f.log.Error("panic delivering an event", "namespace", ev.Namespace, "target", ev.Target, "event", ev.Name, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	f.deliver(ev)
}

// push appends ev, dropping the oldest event when limit are queued. It
// reports whether one was dropped.
func (q *targetQueue) push(ev rv.Event, limit int) (dropped bool) {
	if q.n == len(q.buf) {
		if q.n < limit {
			q.grow(min(limit, max(4, 2*len(q.buf))))
		} else {
			old := q.pop()
			q.disconnect = q.disconnect || old.Disconnect
			dropped = true
		}
	}
	q.buf[(q.head+q.n)%len(q.buf)] = ev
	q.n++
	return dropped
}

func (q *targetQueue) pop() rv.Event {
	ev := q.buf[q.head]
	q.buf[q.head] = rv.Event{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return ev
}

func (q *targetQueue) grow(size int) {
	buf := make([]rv.Event, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}
