package memory_test

import (
	"testing"

	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestQueueStore(t *testing.T) {
	storetest.RunQueue(t, func(*testing.T) storetest.QueueHarness {
		return storetest.QueueHarness{Store: memory.NewQueueStore()}
	})
}
