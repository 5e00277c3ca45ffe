package moderation

import (
	"context"
	"time"
)

// EventStore logs violations (ModerationEvent rows). Every method is
// atomic across processes.
//
// Implementations: store/memory and store/postgres; store/storetest
// (RunModeration) checks them.
type EventStore interface {
	// Record inserts e unless an event with e's DeliveryKey and UserID
	// exists: then that one is returned with false.
	Record(ctx context.Context, e Event) (Event, bool, error)
	// CountSince returns how many events of userID were received at or
	// after since.
	CountSince(ctx context.Context, userID string, since time.Time) (int, error)
	// List returns up to limit events of userID (all users when empty),
	// newest first.
	List(ctx context.Context, userID string, limit int) ([]Event, error)
}

// BanStore keeps bans and remembers webhook deliveries, both with a TTL.
// Every method is atomic across processes.
//
// Implementations: store/memory and store/redis; store/storetest
// (RunModeration) checks them.
type BanStore interface {
	// Ban bans userID until until, unless a ban is in force at now: then
	// that one is returned with false and nothing changes.
	Ban(ctx context.Context, userID string, until, now time.Time) (Ban, bool, error)
	// Get returns the ban of userID in force at now, or false.
	Get(ctx context.Context, userID string, now time.Time) (Ban, bool, error)
	// Lift ends userID's ban and reports whether there was one.
	Lift(ctx context.Context, userID string) (bool, error)
	// SeeDelivery records the webhook delivery key for ttl and reports
	// whether this is its first time.
	SeeDelivery(ctx context.Context, key string, ttl time.Duration) (bool, error)
}
