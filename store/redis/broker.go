package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
)

var _ rv.Notifier = (*Broker)(nil)

// subscriptionBuffer is the number of received messages go-redis buffers
// for a subscriber whose deliver function is busy. go-redis drops a message
// when the buffer stays full for a minute.
const subscriptionBuffer = 1024

// Broker fans events out to every instance over Redis pub/sub: a
// rendezvous.Notifier whose events reach the subscribers of every process
// that uses the same Redis and prefix, the publishing one included. Create
// one with NewBroker; it is safe for concurrent use.
//
// Events travel JSON-encoded on one channel, <prefix>events. Like all Redis
// pub/sub, delivery is at most once: a subscriber whose connection is down
// misses the events published meanwhile (go-redis reconnects and
// resubscribes by itself).
type Broker struct {
	client  goredis.UniversalClient
	channel string
	logger  *slog.Logger
}

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

// NewBroker returns a Broker that publishes on the channel <prefix>events
// (prefix "" means DefaultPrefix) of client.
func NewBroker(client goredis.UniversalClient, prefix string, opts ...BrokerOption) *Broker {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	b := &Broker{client: client, channel: prefix + "events", logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(b)
	}
	return b
}

// Notify publishes events in one round trip, in order.
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
		err = b.client.Publish(ctx, b.channel, payloads[0]).Err()
	default:
		_, err = b.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, payload := range payloads {
				p.Publish(ctx, b.channel, payload)
			}
			return nil
		})
	}
	if err != nil {
		return storeError("publish", err)
	}
	return nil
}

// Subscribe subscribes to the events channel and returns once Redis has
// confirmed the subscription, so every event published after Subscribe
// returns is delivered. deliver is called with each event, one at a time,
// in publish order, on a goroutine of its own; messages that do not decode
// are skipped. ctx bounds the subscription request only.
//
// unsubscribe ends the subscription and waits for a deliver call in
// progress to return, so no deliver call happens after it returns. It must
// therefore not be called from within deliver. Calling it again does
// nothing.
func (b *Broker) Subscribe(ctx context.Context, deliver func(rv.Event)) (unsubscribe func(), err error) {
	ps := b.client.Subscribe(ctx, b.channel)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, storeError("subscribe", err)
	}
	msgs := ps.Channel(goredis.WithChannelSize(subscriptionBuffer))

	var stopped atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range msgs {
			if stopped.Load() {
				continue // drain until go-redis closes msgs
			}
			var ev rv.Event
			if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil {
				b.logger.Warn("rendezvous: skipping malformed event",
					slog.String("channel", msg.Channel), slog.Any("error", err))
				continue
			}
			deliver(ev)
		}
	}()

	var once sync.Once
	return func() {
		once.Do(func() {
			stopped.Store(true)
			_ = ps.Close()
			<-done
		})
	}, nil
}
