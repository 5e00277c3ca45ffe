package transport_test

import (
	"context"
	"encoding/json"
	"testing"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// An event for a namespace this instance does not serve creates no
// namespace (which would be open to anyone), and an event without a target
// reaches nobody: neither broadcasts to the whole namespace.
func TestDeliverNeverCreatesNamespacesNorBroadcasts(t *testing.T) {
	s := newStack(t, options{connectRate: -1})
	const ns = "/deliver"
	s.T.SocketIO().Of(ns).OnConnect(func(ctx context.Context, sock *socketio.Socket, auth json.RawMessage) error {
		sock.Join("t")
		return nil
	})
	c := dial(t, s)
	if p, err := c.Connect(ns, nil, wait); err != nil || p.Type != 0 {
		t.Fatalf("connect: %v %s", err, p.Data)
	}
	// One target's events are delivered in order, so once "last" arrives
	// the events before it have been handled.
	if err := s.Broker.Notify(context.Background(),
		rv.NewEvent("/unserved", "t", "ghost", nil),
		rv.NewEvent(ns, "", "everyone", nil),
		rv.NewEvent(ns, "t", "last", nil),
	); err != nil {
		t.Fatal(err)
	}
	p, err := c.Wait(wait, func(p siotest.Packet) bool { return p.Type == 2 && p.Namespace == ns })
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := p.Event(); name != "last" {
		t.Fatalf("first event %q: an event without a target was broadcast", name)
	}
	if s.T.SocketIO().Lookup("/unserved") != nil {
		t.Fatal("delivering an event created the namespace /unserved")
	}
}
