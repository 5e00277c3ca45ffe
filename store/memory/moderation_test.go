package memory_test

import (
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/store/storetest"
)

func TestModeration(t *testing.T) {
	storetest.RunModeration(t,
		func(t *testing.T) moderation.EventStore { return memory.NewModerationEventStore() },
		func(t *testing.T) storetest.BanHarness {
			clock := fakeclock.New(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
			return storetest.BanHarness{Store: memory.NewBanStore(clock), Now: clock.Now, Advance: clock.Advance}
		})
}
