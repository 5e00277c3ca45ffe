package memory

import (
	"context"
	"slices"
	"sync"

	rv "github.com/rendezvous-go/rendezvous"
)

var _ rv.Notifier = (*Broker)(nil)

// Broker is an in-process publish/subscribe hub: a rendezvous.Notifier for
// a deployment with a single instance. Create one with NewBroker; it is safe
// for concurrent use.
//
// Like store/redis.Broker, it delivers only the events of the targets it
// follows (Follow, Unfollow; calls are counted), so that both pass the same
// conformance suite; the others are dropped by Notify.
//
// Delivery is asynchronous: Notify only queues the events, and each
// subscriber is served by its own goroutine, in publish order. Notify never
// calls a deliver function itself, so callers may hold locks that deliver
// also takes. A subscriber's queue is unbounded: a subscriber that falls
// behind costs memory, never blocks Notify, and loses nothing.
type Broker struct {
	mu      sync.Mutex
	subs    []*subscriber
	targets map[target]int // Follow calls minus Unfollow calls
}

type target struct{ namespace, target string }

// NewBroker returns a Broker with no subscribers.
func NewBroker() *Broker { return &Broker{targets: make(map[target]int)} }

// Follow makes the subscribers receive the events of target in namespace
// published from now on, until as many Unfollow calls have been made. It
// never fails.
func (b *Broker) Follow(_ context.Context, namespace, to string) error {
	b.count(target{namespace, to}, 1)
	return nil
}

// Unfollow undoes one Follow of target in namespace. An Unfollow that comes
// before its Follow is counted too: the pair cancels out.
func (b *Broker) Unfollow(namespace, to string) {
	b.count(target{namespace, to}, -1)
}

func (b *Broker) count(t target, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := b.targets[t] + n; c == 0 {
		delete(b.targets, t)
	} else {
		b.targets[t] = c
	}
}

// Notify queues the events of the followed targets for every current
// subscriber and returns at once. Events published by concurrent Notify
// calls reach every subscriber in the same order. With no subscriber,
// Notify does nothing. Subscribers share the events' Data, which they must
// not modify.
func (b *Broker) Notify(_ context.Context, events ...rv.Event) error {
	if len(events) == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) == 0 {
		return nil
	}
	kept := events // the subscribers copy the events: no need to own them
	for i, ev := range events {
		if b.targets[target{ev.Namespace, ev.Target}] > 0 {
			if len(kept) < len(events) {
				kept = append(kept, ev)
			}
			continue
		}
		if len(kept) == len(events) {
			kept = append(make([]rv.Event, 0, len(events)-1), events[:i]...)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	for _, s := range b.subs {
		s.push(kept)
	}
	return nil
}

// Subscribe calls deliver with every event of a followed target published
// after Subscribe returns, one at a time, in publish order, on a goroutine of its own. The
// subscription lasts until unsubscribe is called; ctx is not retained.
//
// unsubscribe drops the events not yet delivered and waits for a deliver
// call in progress to return, so no deliver call happens after it returns.
// It must therefore not be called from within deliver. Calling it again
// does nothing.
func (b *Broker) Subscribe(_ context.Context, deliver func(rv.Event)) (unsubscribe func(), err error) {
	s := &subscriber{
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	go s.run(deliver)

	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.subs = slices.DeleteFunc(b.subs, func(o *subscriber) bool { return o == s })
			b.mu.Unlock()
			close(s.stop)
			<-s.done
		})
	}, nil
}

// subscriber is one Subscribe call: a queue and the goroutine draining it.
type subscriber struct {
	mu    sync.Mutex
	queue []rv.Event
	spare []rv.Event // the previous batch, emptied, for the next queue

	wake chan struct{} // holds a token when queue may be non-empty
	stop chan struct{} // closed by unsubscribe
	done chan struct{} // closed when run returns
}

func (s *subscriber) push(events []rv.Event) {
	s.mu.Lock()
	if s.queue == nil {
		s.queue, s.spare = s.spare, nil
	}
	s.queue = append(s.queue, events...)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscriber) run(deliver func(rv.Event)) {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for i := range batch {
			select {
			case <-s.stop:
				return
			default:
			}
			deliver(batch[i])
		}
		if cap(batch) <= 1024 {
			clear(batch)
			s.mu.Lock()
			s.spare = batch[:0]
			s.mu.Unlock()
		}
	}
}
