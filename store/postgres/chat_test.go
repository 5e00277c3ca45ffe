package postgres_test

import (
	"testing"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/postgres"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestChatStore(t *testing.T) {
	testenv.PostgresURL(t) // skip early when there is no database
	storetest.RunChat(t, func(t *testing.T) storetest.ChatHarness {
		pool := testPool(t)
		return storetest.ChatHarness{Store: postgres.NewChatStore(pool), Optin: postgres.NewOptinStore(pool)}
	})
}
