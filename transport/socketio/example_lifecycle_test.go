package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// The connecting step (OnConnect) only decides; the side effects go in the
// connected step (OnConnected), which OnDisconnect always pairs with. Typed
// keys keep per-socket values.
func ExampleNamespace_OnConnected() {
	srv := socketio.NewServer(socketio.Config{})
	userKey := socketio.NewKey[string]("user")

	var mu sync.Mutex
	online := map[string]int{} // presence: a side effect undone on disconnect
	done := make(chan struct{})

	game := srv.Of("/game")
	game.OnConnect(func(ctx context.Context, s *socketio.Socket, auth json.RawMessage) error {
		var a struct{ User string }
		if json.Unmarshal(auth, &a) != nil || a.User == "" {
			return &socketio.ConnectError{Message: "who are you?"}
		}
		userKey.Set(s, a.User)
		return nil
	})
	game.OnConnected(func(s *socketio.Socket) {
		user, _ := userKey.Get(s)
		mu.Lock()
		online[user]++
		fmt.Println("online:", user, online[user])
		mu.Unlock()
	})
	game.OnDisconnect(func(s *socketio.Socket, reason string) {
		user, _ := userKey.Get(s)
		mu.Lock()
		online[user]--
		fmt.Println("offline:", user, online[user], reason)
		mu.Unlock()
		close(done)
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	url := ts.URL + "/socket.io/?EIO=4&transport=polling"
	var hs struct{ SID string }
	json.Unmarshal([]byte(get(url)[1:]), &hs)
	url += "&sid=" + hs.SID

	post(url, `40/game,{}`)
	show(get(url))
	post(url, `40/game,{"user":"bob"}`)
	show(get(url))
	game.DisconnectRoom("")
	<-done
	show(get(url))

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(ctx)

	// Output:
	// 44/game,{"message":"who are you?"}
	// online: bob 1
	// 40/game,{"sid":"…"}
	// offline: bob 0 server namespace disconnect
	// 41/game,
}
