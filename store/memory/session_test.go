package memory_test

import (
	"testing"

	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestSessionStore(t *testing.T) {
	storetest.RunSessions(t, func(t *testing.T) storetest.SessionHarness {
		return storetest.SessionHarness{Store: memory.NewSessionStore()}
	})
}
