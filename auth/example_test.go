package auth_test

import (
	"fmt"

	"github.com/rendezvous-go/rendezvous/auth"
)

func ExampleRoomTokens() {
	tokens, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte("a-secret-of-at-least-16-bytes")})
	if err != nil {
		panic(err)
	}
	tok, _ := tokens.IssueRoomToken("ABCD", "user-1")
	code, user, err := tokens.VerifyRoomToken(tok)
	fmt.Println(code, user, err)
	// Output: ABCD user-1 <nil>
}
