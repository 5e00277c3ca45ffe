package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
	"unsafe"

	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
)

var _ rv.Notifier = (*Broker)(nil)

const (
	// unsubscribeWait bounds the wait for Redis to confirm an UNSUBSCRIBE;
	// past it (the connection is down, say) the channel counts as left:
	// go-redis does not resubscribe it on reconnection.
	unsubscribeWait = 10 * time.Second
	// receiveIdle is how long the receive loop waits for a message before
	// it pings the connection, to notice a silently dead one.
	receiveIdle = 30 * time.Second
	// receiveRetry is the pause before the receive loop retries after a
	// failed receive (Redis down); go-redis reconnects and resubscribes on
	// the next receive.
	receiveRetry = 200 * time.Millisecond
)

// Broker fans events out to the instances that have sockets in their
// targets, over Redis pub/sub: a rendezvous.Notifier whose events reach the
// subscribers of every Broker (every process) that uses the same Redis and
// prefix and follows the event's target, the publishing one included.
// Create one with NewBroker; it is safe for concurrent use. One Broker is
// one instance: its Subscribe calls share one pub/sub connection and the
// targets it follows.
//
// Each target has its own channel, <prefix>ev:<len(ns)>:<ns>:<target>
// (for example rv:ev:6:/rooms:room:ABCD), and an instance subscribes only
// to the channels of the targets it follows (Follow, Unfollow), so with N
// instances each receives its own share of the events, not all of them. A
// channel per target rather than a fixed set of hashed shard channels:
// an instance then receives exactly the events of its targets, never its
// shard neighbours' (with 64 shards and a few hundred rooms per instance
// every instance would again receive nearly everything), and Redis's cost
// per channel is one hash-table entry; the price is one SUBSCRIBE when an
// instance's first socket joins a target and one UNSUBSCRIBE when its
// last leaves. Events of one target stay in publish order: one channel,
// one connection.
//
// Like all Redis pub/sub, delivery is at most once: a subscriber whose
// connection is down misses the events published meanwhile (go-redis
// reconnects and resubscribes every followed channel by itself).
type Broker struct {
	client  goredis.UniversalClient
	prefix  string // <prefix>ev:
	control string // <prefix>ev, subscribed while the connection is open
	logger  *slog.Logger

	mu      sync.Mutex
	ps      *goredis.PubSub // nil while nobody is subscribed
	done    chan struct{}   // closed when the receive loop of ps returns
	targets map[string]*follow
	waiters map[string][]waiter

	smu  sync.Mutex   // serialises Subscribe and unsubscribe
	dmu  sync.RWMutex // guards subs; held for reading while delivering
	subs []*brokerSub
}

// follow is the state of one followed target (one channel).
type follow struct {
	op   sync.Mutex      // serialises the SUBSCRIBE and UNSUBSCRIBE of the channel
	refs int             // Follow calls minus Unfollow calls; guarded by Broker.mu
	on   *goredis.PubSub // the connection the channel is subscribed on; guarded by op
}

// waiter waits for Redis to confirm a subscribe or unsubscribe of a channel.
type waiter struct {
	kind string // "subscribe" or "unsubscribe"
	ok   chan bool
}

type brokerSub struct{ deliver func(rv.Event) }

// BrokerOption configures a Broker.
type BrokerOption func(*Broker)

// WithLogger makes the Broker log the messages it cannot decode, which it
// skips. By default a Broker logs nothing.
func WithLogger(logger *slog.Logger) BrokerOption {
	return func(b *Broker) {
		if logger != nil {
			b.logger = logger
		}
	}
}

// NewBroker returns a Broker that publishes on the channels
// <prefix>ev:… (prefix "" means DefaultPrefix) of client.
func NewBroker(client goredis.UniversalClient, prefix string, opts ...BrokerOption) *Broker {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	b := &Broker{
		client:  client,
		prefix:  prefix + "ev:",
		control: prefix + "ev",
		logger:  slog.New(slog.DiscardHandler),
		targets: make(map[string]*follow),
		waiters: make(map[string][]waiter),
	}
	for _, opt := range opts {
		opt(b)
	}
	return b
}

// Channel returns the Redis channel that carries the events of target in
// namespace.
func (b *Broker) Channel(namespace, target string) string {
	return b.prefix + strconv.Itoa(len(namespace)) + ":" + namespace + ":" + target
}

// Notify publishes each event on the channel of its target, all in one
// round trip, in order.
func (b *Broker) Notify(ctx context.Context, events ...rv.Event) error {
	payloads := make([][]byte, len(events))
	for i, ev := range events {
		p, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("redis: encode event %q: %w", ev.Name, err)
		}
		payloads[i] = p
	}
	var err error
	switch len(payloads) {
	case 0:
		return nil
	case 1:
		err = b.client.Publish(ctx, b.Channel(events[0].Namespace, events[0].Target), payloads[0]).Err()
	default:
		_, err = b.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, payload := range payloads {
				p.Publish(ctx, b.Channel(events[i].Namespace, events[i].Target), payload)
			}
			return nil
		})
	}
	if err != nil {
		return storeError("publish", err)
	}
	return nil
}

// Follow makes this instance receive the events of target in namespace.
// Calls are counted: the channel is subscribed on the first Follow and
// left when as many Unfollow calls have been made. While the Broker has
// a subscriber, Follow returns once Redis has confirmed the subscription,
// so every event of the target published after Follow returns is
// delivered; without a subscriber it only records the target, and the next
// Subscribe subscribes it before returning. The call is counted even when
// it fails (Redis unreachable, ctx done), so that the matching Unfollow
// keeps the count right; the subscription is then retried by the next
// Follow of the target and by the next Subscribe.
func (b *Broker) Follow(ctx context.Context, namespace, target string) error {
	ch := b.Channel(namespace, target)
	f := b.count(ch, 1)
	return b.sync(ctx, ch, f)
}

// Unfollow undoes one Follow of target in namespace: when it is the last,
// the instance unsubscribes from the target's channel. It waits for Redis
// to confirm the unsubscription, for a bounded time. An Unfollow that comes
// before its Follow is counted too: the pair cancels out.
func (b *Broker) Unfollow(namespace, target string) {
	ch := b.Channel(namespace, target)
	f := b.count(ch, -1)
	_ = b.sync(context.Background(), ch, f)
}

// sync brings the subscription of ch in line with f.refs.
func (b *Broker) sync(ctx context.Context, ch string, f *follow) error {
	f.op.Lock()
	defer f.op.Unlock()
	b.mu.Lock()
	want, ps := f.refs > 0, b.ps
	b.mu.Unlock()
	switch {
	case ps == nil:
		f.on = nil
	case want && f.on != ps:
		w := b.wait(ch, "subscribe")
		if err := ps.Subscribe(ctx, ch); err != nil {
			b.dropWaiter(ch, w)
			return storeError("subscribe", err)
		}
		// Sent: go-redis now resubscribes ch on every reconnection.
		f.on = ps
		select {
		case <-w.ok:
		case <-ctx.Done():
			b.dropWaiter(ch, w)
			return storeError("subscribe", ctx.Err())
		}
	case !want && f.on == ps:
		w := b.wait(ch, "unsubscribe")
		f.on = nil
		if err := ps.Unsubscribe(context.WithoutCancel(ctx), ch); err != nil {
			b.dropWaiter(ch, w)
			break
		}
		t := time.NewTimer(unsubscribeWait)
		select {
		case <-w.ok:
		case <-t.C:
			b.dropWaiter(ch, w)
		}
		t.Stop()
	}
	if !want {
		b.mu.Lock()
		if f.refs == 0 && b.targets[ch] == f {
			delete(b.targets, ch)
		}
		b.mu.Unlock()
	}
	return nil
}

// wait registers a waiter for the next confirmation of kind on ch.
func (b *Broker) wait(ch, kind string) waiter {
	w := waiter{kind: kind, ok: make(chan bool, 1)}
	b.mu.Lock()
	b.waiters[ch] = append(b.waiters[ch], w)
	b.mu.Unlock()
	return w
}

func (b *Broker) dropWaiter(ch string, w waiter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ws := b.waiters[ch]
	for i := range ws {
		if ws[i].ok == w.ok {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(b.waiters, ch)
	} else {
		b.waiters[ch] = ws
	}
}

// confirm wakes the waiters of kind on ch; all is every kind and channel.
func (b *Broker) confirm(ch, kind string, ok, all bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c, ws := range b.waiters {
		if !all && c != ch {
			continue
		}
		kept := ws[:0]
		for _, w := range ws {
			if all && (kind == "" || w.kind == kind) || !all && w.kind == kind {
				w.ok <- ok
			} else {
				kept = append(kept, w)
			}
		}
		if len(kept) == 0 {
			delete(b.waiters, c)
		} else {
			b.waiters[c] = kept
		}
	}
}

// Subscribe calls deliver with every event of the targets this Broker
// follows, one at a time, in publish order per target, on the goroutine
// that receives from Redis (shared by the Broker's subscribers). The first
// Subscribe opens the pub/sub connection and returns once Redis has
// confirmed it and the subscriptions of every target already followed, so
// every event published after Subscribe returns is delivered. Messages that
// do not decode are skipped. ctx bounds the subscription requests only.
// deliver should return quickly (queue the event, as the Transport does):
// while it runs, the confirmations that Follow waits for wait too.
//
// unsubscribe ends the subscription and waits for a deliver call in
// progress to return, so no deliver call happens after it returns; the
// last one closes the connection (the targets stay followed, for the next
// Subscribe). It must therefore not be called from within deliver. Calling
// it again does nothing.
func (b *Broker) Subscribe(ctx context.Context, deliver func(rv.Event)) (unsubscribe func(), err error) {
	s := &brokerSub{deliver: deliver}
	b.smu.Lock()
	defer b.smu.Unlock()
	b.dmu.RLock()
	first := len(b.subs) == 0
	b.dmu.RUnlock()
	if first {
		if err := b.open(ctx); err != nil {
			return nil, err
		}
	}
	b.dmu.Lock()
	b.subs = append(b.subs, s)
	b.dmu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() { b.unsubscribe(s) })
	}, nil
}

// open starts the pub/sub connection and subscribes the followed targets.
// b.smu is held.
func (b *Broker) open(ctx context.Context) error {
	ps := b.client.Subscribe(ctx, b.control)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return storeError("subscribe", err)
	}
	done := make(chan struct{})
	b.mu.Lock()
	b.ps, b.done = ps, done
	followed := make(map[string]*follow, len(b.targets))
	for ch, f := range b.targets {
		followed[ch] = f
	}
	b.mu.Unlock()
	go b.receive(ps, done)
	for ch, f := range followed {
		if err := b.sync(ctx, ch, f); err != nil {
			b.close()
			return err
		}
	}
	return nil
}

func (b *Broker) unsubscribe(s *brokerSub) {
	b.smu.Lock()
	defer b.smu.Unlock()
	b.dmu.Lock()
	for i, o := range b.subs {
		if o == s {
			b.subs = append(b.subs[:i], b.subs[i+1:]...)
			break
		}
	}
	last := len(b.subs) == 0
	if last {
		b.subs = nil
	}
	b.dmu.Unlock()
	if last {
		b.close()
	}
}

// close ends the pub/sub connection and its receive loop.
func (b *Broker) close() {
	b.mu.Lock()
	ps, done := b.ps, b.done
	b.ps, b.done = nil, nil
	b.mu.Unlock()
	if ps == nil {
		return
	}
	_ = ps.Close()
	<-done
	b.confirm("", "", false, true)
}

// receive reads the pub/sub connection until it is closed.
func (b *Broker) receive(ps *goredis.PubSub, done chan struct{}) {
	defer close(done)
	ctx := context.Background()
	for {
		msg, err := ps.ReceiveTimeout(ctx, receiveIdle)
		if err != nil {
			if errors.Is(err, goredis.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = ps.Ping(ctx)
				continue
			}
			// The connection broke: an UNSUBSCRIBE in flight is moot
			// (go-redis does not resubscribe it); a SUBSCRIBE in flight is
			// confirmed by the resubscription on reconnection.
			b.confirm("", "unsubscribe", true, true)
			b.mu.Lock()
			closed := b.ps != ps
			b.mu.Unlock()
			if closed {
				return
			}
			time.Sleep(receiveRetry)
			continue
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			b.confirm(m.Channel, m.Kind, true, false)
		case *goredis.Message:
			// Decoded once per instance, whatever the number of local
			// sockets; the Data bytes are then passed through to them.
			// json.Unmarshal neither modifies nor retains its input (it
			// copies the strings and Data out), so it reads the payload
			// in place rather than a copy of it.
			var ev rv.Event
			if err := json.Unmarshal(unsafe.Slice(unsafe.StringData(m.Payload), len(m.Payload)), &ev); err != nil {
				b.logger.Warn("rendezvous: skipping malformed event",
					slog.String("channel", m.Channel), slog.Any("error", err))
				continue
			}
			b.dmu.RLock()
			for _, s := range b.subs {
				s.deliver(ev)
			}
			b.dmu.RUnlock()
		}
	}
}

// count adds delta to the follow count of channel ch and returns its
// record.
func (b *Broker) count(ch string, delta int) *follow {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.targets[ch]
	if f == nil {
		f = &follow{}
		b.targets[ch] = f
	}
	f.refs += delta
	return f
}
