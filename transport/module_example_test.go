package transport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// echoModule is a host application's own feature: one REST route and one
// namespace whose sockets need an access token (each joins
// rendezvous.UserTarget(id), the target of events for that user).
type echoModule struct {
	authn transport.Authenticator
}

func (m echoModule) Register(r *transport.Registrar) error {
	if err := r.Handle(transport.Route{Method: "POST", Path: "/echo", Handler: func(w http.ResponseWriter, req *http.Request) error {
		var body struct {
			Say string `json:"say"`
		}
		if err := transport.DecodeBody(w, req, &body); err != nil {
			return err
		}
		transport.WriteJSON(w, http.StatusOK, map[string]string{"said": body.Say})
		return nil
	}}); err != nil {
		return err
	}
	r.UserNamespace("/echo", m.authn, nil).On("echo", func(s *socketio.Socket, ev *socketio.Event) {
		if ev.Ack != nil {
			ev.Ack(ev.Args[0])
		}
	})
	return nil
}

// tokenIsUser accepts any token as the user of that name.
type tokenIsUser struct{}

func (tokenIsUser) Authenticate(_ context.Context, token string) (auth.Principal, error) {
	return auth.Principal{UserID: token}, nil
}

// A host application adds its own Module the way the built-in features
// are added.
func Example_module() {
	broker := memory.NewBroker()
	t, _ := transport.New(transport.Config{Modules: []transport.Module{echoModule{authn: tokenIsUser{}}}, Broker: broker})
	_ = t.Start(context.Background())
	defer t.Shutdown(context.Background())
	srv := httptest.NewServer(t.Handler())
	defer srv.Close()

	res, _ := http.Post(srv.URL+"/echo", "application/json", strings.NewReader(`{"say":"hi"}`))
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))

	res, _ = http.Post(srv.URL+"/echo", "application/json", strings.NewReader(`{"shout":"hi"}`))
	fmt.Println(res.StatusCode)
	res.Body.Close()
	// Output:
	// 200 {"said":"hi"}
	// 400
}
