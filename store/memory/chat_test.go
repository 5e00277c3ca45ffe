package memory_test

import (
	"testing"

	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestChatStore(t *testing.T) {
	storetest.RunChat(t, func(t *testing.T) storetest.ChatHarness {
		o := memory.NewOptinStore()
		return storetest.ChatHarness{Store: memory.NewChatStore(o), Optin: o}
	})
}
