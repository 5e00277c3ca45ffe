package rendezvous

import (
	"context"
	"encoding/json"
	"time"
)

// Event is a real-time message for every socket of a namespace that has
// joined a target, wherever those sockets are connected. Features publish
// events through a Notifier; transports deliver them.
//
// Targets are strings a transport lets sockets join: package rooms uses
// "room:<CODE>" for every member of a room and "user:<id>" for one member's
// sockets. An Event with an empty Name delivers nothing and only acts through
// Disconnect.
type Event struct {
	// Namespace is the Socket.IO namespace, such as "/rooms".
	Namespace string `json:"ns"`
	// Target selects the sockets (a Socket.IO room).
	Target string `json:"to"`
	// Name is the event name, such as "room:closed".
	Name string `json:"ev,omitempty"`
	// Data is the event's single argument, already JSON-encoded; nil sends
	// the event with no argument.
	Data json.RawMessage `json:"d,omitempty"`
	// Disconnect asks the transport to disconnect the selected sockets from
	// the namespace after delivering the event.
	Disconnect bool `json:"x,omitempty"`
}

// NewEvent returns an Event whose Data is the JSON encoding of data (no
// argument when data is nil). It panics if data cannot be encoded, which is
// a programming error for the plain structs and maps events carry.
func NewEvent(namespace, target, name string, data any) Event {
	ev := Event{Namespace: namespace, Target: target, Name: name}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			panic("rendezvous: event data cannot be encoded: " + err.Error())
		}
		ev.Data = b
	}
	return ev
}

// Notifier publishes events to every process that holds sockets. Events
// published by one caller are delivered in the order they were published.
// store/memory provides an in-process implementation; store/redis one that
// fans out over Redis pub/sub.
type Notifier interface {
	Notify(ctx context.Context, events ...Event) error
}

// NotifierFunc adapts a function to the Notifier interface.
type NotifierFunc func(ctx context.Context, events ...Event) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, events ...Event) error { return f(ctx, events...) }

// DiscardNotifier drops every event: the default Notifier of the
// features' Configs.
var DiscardNotifier Notifier = NotifierFunc(func(context.Context, ...Event) error { return nil })

// Clock tells the time. Services take one in their Config so that expiry
// and timers are tested without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock of the operating system.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
