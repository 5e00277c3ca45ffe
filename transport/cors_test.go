package transport_test

import (
	"context"
	"github.com/rendezvous-go/rendezvous/internal/logbuf"
	"log/slog"
	"strings"
	"testing"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
)

// With the default "*", any origin may call the API but never with
// credentials: Access-Control-Allow-Origin is "*" and
// Access-Control-Allow-Credentials is absent, on REST, preflight and the
// Socket.IO polling responses alike.
func TestCORSWildcardHasNoCredentials(t *testing.T) {
	s := newStack(t, options{})
	origin := []string{"Origin", "https://anyone.example"}
	check := func(what string, r response, status int) {
		t.Helper()
		if r.Status != status || r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("%s: %d, Allow-Origin %q, Allow-Credentials %q", what, r.Status,
				r.Header.Get("Access-Control-Allow-Origin"), r.Header.Get("Access-Control-Allow-Credentials"))
		}
	}
	check("POST /rooms", do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, origin...), 201)
	check("preflight", do(t, "OPTIONS", s.URL+"/rooms", "", append(origin, "Access-Control-Request-Method", "POST")...), 204)
	check("error", do(t, "GET", s.URL+"/rooms/ZZZZ", "", origin...), 404)
	check("socket.io handshake", do(t, "GET", s.URL+"/socket.io/?EIO=4&transport=polling", "", origin...), 200)
	check("socket.io preflight", do(t, "OPTIONS", s.URL+"/socket.io/?EIO=4&transport=polling", "", origin...), 204)
	// A WebSocket still connects with an Origin.
	c, err := siotest.Dial(context.Background(), s.URL, map[string]string{"Origin": "https://anyone.example"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// Listed origins get credentials, even beside "*"; a refused origin is
// logged at INFO with the path.
func TestCORSListedOrigins(t *testing.T) {
	logs := &logbuf.Buffer{}
	s := newStack(t, options{cors: []string{"*", "https://game.example"}})
	r := do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, "Origin", "https://game.example")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://game.example" || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("listed origin: %v", r.Header)
	}
	r = do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, "Origin", "https://other.example")
	if r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("unlisted origin beside *: %v", r.Header)
	}

	s2 := newStack(t, options{cors: []string{"https://game.example"}, logger: slog.New(slog.NewJSONHandler(logs, nil))})
	wantError(t, do(t, "POST", s2.URL+"/rooms", `{"displayName":"A"}`, "Origin", "https://evil.example"), 403, "ORIGIN_NOT_ALLOWED")
	if r := do(t, "GET", s2.URL+"/socket.io/?EIO=4&transport=polling", "", "Origin", "https://evil2.example"); r.Status != 403 {
		t.Fatalf("socket.io handshake from a refused origin: %d", r.Status)
	}
	out := logs.String()
	for _, want := range []string{`"level":"INFO"`, `"origin":"https://evil.example"`, `"path":"/rooms"`, `"origin":"https://evil2.example"`, `"path":"/socket.io/"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
