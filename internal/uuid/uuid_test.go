package uuid_test

import (
	"fmt"
	"testing"

	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

func TestNewIsValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := uuid.New()
		if !uuid.Valid(id) || id[14] != '4' || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "not-a-uuid", "0123456789abcdef0123456789abcdef0123", "01234567-89ab-cdef-0123-456789abcdeg"} {
		if uuid.Valid(bad) {
			t.Errorf("Valid(%q)", bad)
		}
	}
}

func Example() {
	fmt.Println(uuid.Valid(uuid.New()), uuid.Valid("user-1"))
	// Output: true false
}
