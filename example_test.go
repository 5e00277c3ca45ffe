package rendezvous_test

import (
	"errors"
	"fmt"

	rv "github.com/rendezvous-go/rendezvous"
)

// A feature exports sentinel errors; callers compare with errors.Is and
// transports answer with the Kind's status and the stable Code.
func ExampleError() {
	ErrRoomFull := rv.E(rv.KindInvalid, "ROOM_FULL", "room is full")

	err := fmt.Errorf("join: %w", ErrRoomFull.WithMessage("room ABCD is full (8 of 8)"))
	fmt.Println(errors.Is(err, ErrRoomFull))
	fmt.Println(rv.KindOf(err), rv.CodeOf(err))
	fmt.Println(rv.CodeOf(errors.New("disk on fire")))
	// Output:
	// true
	// invalid ROOM_FULL
	// UNKNOWN_ERROR
}

func ExampleUserTarget() {
	fmt.Println(rv.UserTarget("u1"), rv.RoomTarget("ABCD"))
	// Output: user:u1 room:ABCD
}
