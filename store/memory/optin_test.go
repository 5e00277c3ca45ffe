package memory_test

import (
	"testing"

	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestOptinStore(t *testing.T) {
	storetest.RunOptin(t, func(t *testing.T) storetest.OptinHarness {
		return storetest.OptinHarness{Store: memory.NewOptinStore()}
	})
}
