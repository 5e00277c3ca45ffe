package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"time"

	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

func ExampleServer() {
	srv := socketio.NewServer(socketio.Config{})

	chat := srv.Of("/chat")
	chat.OnConnect(func(ctx context.Context, s *socketio.Socket, auth json.RawMessage) error {
		var a struct {
			Token string `json:"token"`
		}
		if auth == nil || json.Unmarshal(auth, &a) != nil || a.Token != "secret" {
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]int{"code": 401}}
		}
		s.SetData("alice")
		s.Join("lobby")
		// Delivered right after the CONNECT packet.
		return s.Emit("welcome", "hello "+s.Data().(string))
	})
	chat.On("say", func(s *socketio.Socket, ev *socketio.Event) {
		var text string
		if err := ev.Arg(0, &text); err != nil {
			return
		}
		chat.Emit("lobby", "said", s.Data(), text)
		if ev.Ack != nil {
			ev.Ack("delivered")
		}
	})
	chat.OnDisconnect(func(s *socketio.Socket, reason string) {
		fmt.Println("disconnected:", reason)
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	// A bare HTTP long-polling client speaking the wire protocol.
	url := ts.URL + "/socket.io/?EIO=4&transport=polling"
	open := get(url)
	var hs struct{ SID string }
	json.Unmarshal([]byte(open[1:]), &hs)
	url += "&sid=" + hs.SID

	post(url, `40/chat,{"token":"wrong"}`)
	show(get(url))
	post(url, `40/chat,{"token":"secret"}`)
	show(get(url))
	post(url, `42/chat,7["say","hi all"]`)
	show(get(url))
	post(url, "1") // close the connection

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fmt.Println("shutdown:", srv.Shutdown(ctx))

	// Output:
	// 44/chat,{"message":"unauthorized","data":{"code":401}}
	// 40/chat,{"sid":"…"}
	// 42/chat,["welcome","hello alice"]
	// 42/chat,["said","alice","hi all"]
	// 43/chat,7["delivered"]
	// disconnected: transport close
	// shutdown: <nil>
}

var sidRE = regexp.MustCompile(`"sid":"[^"]+"`)

// show prints the packets of a polling payload, one per line.
func show(payload string) {
	for _, p := range strings.Split(payload, "\x1e") {
		fmt.Println(sidRE.ReplaceAllString(p, `"sid":"…"`))
	}
}

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func post(url, body string) {
	resp, err := http.Post(url, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err == nil {
		resp.Body.Close()
	}
}
