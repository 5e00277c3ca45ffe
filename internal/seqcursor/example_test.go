package seqcursor_test

import (
	"fmt"

	"github.com/rendezvous-go/rendezvous/internal/seqcursor"
)

func Example() {
	c := seqcursor.Encode("m1.", 42)
	seq, ok := seqcursor.Decode("m1.", c)
	fmt.Println(c, seq, ok)
	_, ok = seqcursor.Decode("t1.", c) // a cursor of another list
	fmt.Println(ok)
	// Output:
	// bTEuNDI 42 true
	// false
}
