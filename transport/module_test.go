package transport_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// fakeAuthenticator accepts the one token "good" as user u1.
type fakeAuthenticator struct{ calls atomic.Int32 }

func (f *fakeAuthenticator) Authenticate(_ context.Context, token string) (auth.Principal, error) {
	f.calls.Add(1)
	if token != "good" {
		return auth.Principal{}, auth.ErrTokenInvalid
	}
	return auth.Principal{UserID: "u1"}, nil
}

// whoModule has one authenticated route and one user namespace.
type whoModule struct{ authn transport.Authenticator }

func (m whoModule) Register(r *transport.Registrar) error {
	r.UserNamespace("/who", m.authn, nil).On("whoami", func(s *socketio.Socket, ev *socketio.Event) {
		p, _ := transport.SocketPrincipal(s)
		ev.Ack(p.UserID)
	})
	return r.Handle(transport.Route{Method: "GET", Path: "/who", Handler: r.WithUser(m.authn, func(w http.ResponseWriter, req *http.Request, p auth.Principal) error {
		if q, ok := transport.PrincipalFrom(req.Context()); !ok || q != p {
			return transport.ErrInvalidBody.WithMessage("principal missing from the request context")
		}
		transport.WriteJSON(w, http.StatusOK, map[string]string{"userId": p.UserID})
		return nil
	})})
}

// A module is served with a fake Authenticator, without auth.Service.
func TestModuleWithFakeAuthenticator(t *testing.T) {
	authn := &fakeAuthenticator{}
	tr, err := transport.New(transport.Config{Modules: []transport.Module{whoModule{authn: authn}}, Broker: memory.NewBroker()})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, tr)
	s := &stack{URL: url, T: tr}

	if r := do(t, "GET", url+"/who", "", "Authorization", "Bearer good"); r.Status != 200 || string(r.Body) != "{\"userId\":\"u1\"}\n" {
		t.Fatalf("good token: %d %s", r.Status, r.Body)
	}
	wantError(t, do(t, "GET", url+"/who", "", "Authorization", "Bearer bad"), 401, "TOKEN_INVALID")
	wantError(t, do(t, "GET", url+"/who", ""), 401, "TOKEN_MISSING")

	c := dial(t, s)
	if p, err := c.Connect("/who", map[string]string{"token": "bad"}, wait); err != nil || p.Type != 4 {
		t.Fatalf("bad token connect: %v %+v", err, p)
	}
	if p, err := c.Connect("/who", map[string]string{"token": "good"}, wait); err != nil || p.Type != 0 {
		t.Fatalf("good token connect: %v %s", err, p.Data)
	}
	if out, err := c.EmitAck("/who", "whoami", wait); err != nil || len(out) != 1 || string(out[0]) != `"u1"` {
		t.Fatalf("whoami: %s %v", out, err)
	}
	if n := authn.calls.Load(); n != 4 { // the missing token never reaches it
		t.Fatalf("Authenticate called %d times, want 4", n)
	}
}

// New refuses a configuration without modules, and a module's error.
func TestNewModules(t *testing.T) {
	if _, err := transport.New(transport.Config{Broker: memory.NewBroker()}); err == nil {
		t.Fatal("no modules accepted")
	}
	if _, err := transport.New(transport.Config{Modules: []transport.Module{transport.BillingModule(transport.BillingConfig{})}, Broker: memory.NewBroker()}); err == nil {
		t.Fatal("billing without a service accepted")
	}
}
