package fakeclock_test

import (
	"fmt"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
)

func Example() {
	c := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c.Advance(45 * time.Second)
	fmt.Println(c.Now().Format(time.TimeOnly))
	// Output: 00:00:45
}
