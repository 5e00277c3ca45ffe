package transport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

func Example() {
	broker := memory.NewBroker()
	tokens, _ := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte("a-secret-of-at-least-16-bytes")})
	svc, _ := rooms.New(rooms.Config{Store: memory.NewRoomStore(nil), Tokens: tokens, Notifier: broker})
	t, _ := transport.New(transport.Config{Modules: []transport.Module{transport.RoomsModule(transport.RoomsConfig{Service: svc})}, Broker: broker, Prefix: "/api"})
	_ = t.Start(context.Background())
	defer t.Shutdown(context.Background())

	mux := http.NewServeMux()
	t.Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, _ := http.Post(srv.URL+"/api/rooms/NOPE/join", "application/json", strings.NewReader(`{"displayName":"Bob"}`))
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
	// Output: 404 {"statusCode":404,"error":"Not Found","message":"room not found","code":"ROOM_NOT_FOUND"}
}
