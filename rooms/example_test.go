package rooms_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

func Example() {
	ctx := context.Background()
	tokens, _ := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte("a-secret-of-at-least-16-bytes")})
	svc, _ := rooms.New(rooms.Config{Store: memory.NewRoomStore(nil), Tokens: tokens, MaxUsers: 2})

	host, _ := svc.Create(ctx, rooms.CreateRequest{DisplayName: "Alice"})
	guest, _ := svc.Join(ctx, host.RoomCode, rooms.JoinRequest{DisplayName: "Bob"})
	_, err := svc.Join(ctx, host.RoomCode, rooms.JoinRequest{DisplayName: "Carol"})
	fmt.Println("third join:", errors.Is(err, rooms.ErrRoomFull))

	_ = svc.Kick(ctx, host.RoomCode, host.UserID, guest.UserID)
	_, _, err = svc.Authenticate(ctx, guest.Token)
	fmt.Println("kicked token:", errors.Is(err, rooms.ErrMemberNotFound))

	snap, _ := svc.State(ctx, host.RoomCode)
	fmt.Println(len(snap.Users), snap.Users[0].DisplayName, snap.Users[0].IsHost)
	// Output:
	// third join: true
	// kicked token: true
	// 1 Alice true
}
