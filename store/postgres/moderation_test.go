package postgres_test

import (
	"testing"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestModerationEventStore(t *testing.T) {
	testenv.PostgresURL(t) // skip early when there is no database
	storetest.RunModeration(t, func(t *testing.T) moderation.EventStore {
		return postgres.NewModerationEventStore(testPool(t))
	}, nil)
}
