package postgres_test

import (
	"testing"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestSessionStore(t *testing.T) {
	testenv.PostgresURL(t) // skip early when there is no database
	storetest.RunSessions(t, func(t *testing.T) storetest.SessionHarness {
		return storetest.SessionHarness{Store: postgres.NewSessionStore(testPool(t))}
	})
}
