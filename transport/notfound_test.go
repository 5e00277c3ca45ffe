package transport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

// Unknown paths and wrong methods answer the JSON error body, with the
// methods that exist in Allow.
func TestUnknownRoutesAndMethods(t *testing.T) {
	s := newStack(t, options{})
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/nope", 404, "ROUTE_NOT_FOUND", ""},
		{"POST", "/rooms/ABCD/nope", 404, "ROUTE_NOT_FOUND", ""},
		{"GET", "/rooms/", 404, "ROUTE_NOT_FOUND", ""},
		{"DELETE", "/rooms", 405, "METHOD_NOT_ALLOWED", "OPTIONS, POST"},
		{"GET", "/rooms/ABCD/join", 405, "METHOD_NOT_ALLOWED", "OPTIONS, POST"},
		{"PUT", "/rooms/ABCD", 405, "METHOD_NOT_ALLOWED", "GET, HEAD, OPTIONS"},
		{"POST", "/users/me", 405, "METHOD_NOT_ALLOWED", "DELETE, GET, HEAD, OPTIONS, PATCH"},
		{"POST", "/healthz", 405, "METHOD_NOT_ALLOWED", "GET, HEAD"},
	} {
		r := do(t, tc.method, s.URL+tc.path, "")
		wantError(t, r, tc.status, tc.code)
		if got := r.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
	// The real routes still answer.
	if r := do(t, "GET", s.URL+"/rooms/ZZZZ", ""); r.Status != 404 || r.errorBody(t).Code != "ROOM_NOT_FOUND" {
		t.Fatalf("GET /rooms/ZZZZ: %d %s", r.Status, r.Body)
	}
	s.create(t, "Host")
	if r := do(t, "OPTIONS", s.URL+"/rooms", "", "Origin", "https://x.example", "Access-Control-Request-Method", "POST"); r.Status != 204 {
		t.Fatalf("preflight: %d", r.Status)
	}
}

// The catch-all covers the prefix only, and the host application's own
// routes on the same mux keep working, with or without a prefix.
func TestCatchAllLeavesHostRoutesAlone(t *testing.T) {
	for _, prefix := range []string{"", "/api"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			broker := memory.NewBroker()
			tokens, _ := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte(testSecret)})
			svc, err := rooms.New(rooms.Config{Store: memory.NewRoomStore(nil), Tokens: tokens, Notifier: broker})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := transport.New(transport.Config{Modules: []transport.Module{transport.RoomsModule(transport.RoomsConfig{Service: svc})}, Broker: broker, Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("hi")) })
			tr.Mount(mux)
			mux.HandleFunc("/static/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("file")) })
			srv := httptest.NewServer(mux)
			t.Cleanup(func() {
				_ = tr.Shutdown(context.Background())
				srv.Close()
			})

			if r := do(t, "GET", srv.URL+"/hello", ""); r.Status != 200 || string(r.Body) != "hi" {
				t.Fatalf("host route: %d %s", r.Status, r.Body)
			}
			if r := do(t, "GET", srv.URL+"/static/app.js", ""); r.Status != 200 || string(r.Body) != "file" {
				t.Fatalf("host route registered after Mount: %d %s", r.Status, r.Body)
			}
			wantError(t, do(t, "GET", srv.URL+prefix+"/nope", ""), 404, "ROUTE_NOT_FOUND")
			r := do(t, "GET", srv.URL+prefix+"/rooms", "")
			wantError(t, r, 405, "METHOD_NOT_ALLOWED")
			if r.Header.Get("Allow") != "OPTIONS, POST" {
				t.Fatalf("Allow %q", r.Header.Get("Allow"))
			}
			if r := do(t, "POST", srv.URL+prefix+"/rooms", `{"displayName":"A"}`); r.Status != 201 {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			if prefix != "" {
				// Outside the prefix the mux answers as it always did.
				if r := do(t, "GET", srv.URL+"/nope", ""); r.Status != 404 || r.Header.Get("Content-Type") == "application/json; charset=utf-8" {
					t.Fatalf("outside the prefix: %d %s", r.Status, r.Header.Get("Content-Type"))
				}
			}
		})
	}
}
