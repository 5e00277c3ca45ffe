package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/logbuf"
	"github.com/rendezvous-go/rendezvous/metrics"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/transport"
)

// scrape returns the text exposition of reg.
func scrape(t *testing.T, reg *metrics.Registry) string {
	t.Helper()
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// After REST calls and a socket connect, the scrape holds the families
// with route patterns, never raw paths.
func TestMetricsScrape(t *testing.T) {
	reg := metrics.New()
	s := newStack(t, options{metrics: reg})
	tk := s.create(t, "Ann")
	if r := do(t, "GET", s.URL+"/rooms/"+tk.RoomCode, ""); r.Status != http.StatusOK {
		t.Fatalf("GET room: %d %s", r.Status, r.Body)
	}
	if r := do(t, "GET", s.URL+"/rooms/ZZZZ", ""); r.Status != http.StatusNotFound {
		t.Fatalf("GET unknown room: %d", r.Status)
	}
	do(t, "GET", s.URL+"/no/such/path", "")
	c, _ := member(t, s, tk)
	if err := c.Emit(rooms.Namespace, "made:up", 1); err != nil {
		t.Fatal(err)
	}
	connectError(t, s, map[string]string{"token": "nope"})
	waitFor(t, "the made-up event counted", func() bool {
		return strings.Contains(scrape(t, reg), `rendezvous_socketio_events_received_total{event="other",namespace="/rooms"} 1`)
	})

	out := scrape(t, reg)
	for _, want := range []string{
		`rendezvous_http_requests_total{method="POST",route="POST /rooms",status="201"} 1`,
		`rendezvous_http_requests_total{method="GET",route="GET /rooms/{code}",status="200"} 1`,
		`rendezvous_http_requests_total{method="GET",route="GET /rooms/{code}",status="404"} 1`,
		`rendezvous_http_requests_total{method="GET",route="/",status="404"} 1`,
		`rendezvous_http_request_duration_seconds_count{method="GET",route="GET /rooms/{code}"} 2`,
		`rendezvous_socketio_sockets{namespace="/rooms",transport="websocket"} 1`,
		`rendezvous_socketio_events_sent_total{event="room:state",namespace="/rooms"}`,
		`rendezvous_socketio_refusals_total{code="TOKEN_INVALID"} 1`,
		`rendezvous_http_requests_total{method="GET",route="/socket.io/",status="101"}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(out, tk.RoomCode) || strings.Contains(out, "ZZZZ") || strings.Contains(out, "/no/such") {
		t.Errorf("a raw path leaked into the labels:\n%s", out)
	}
}

// logLines decodes the JSON lines of buf.
func logLines(t *testing.T, buf *logbuf.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// The access log writes one line per request with its route pattern and
// id; a sane X-Request-Id is kept, an insane one replaced; the error lines
// of a request carry its id; at DEBUG, sockets log their connects and
// disconnects.
func TestAccessLog(t *testing.T) {
	var buf logbuf.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newStack(t, options{logger: log, accessLog: true, ready: func(context.Context) error { return errors.New("redis down") }})
	tk := s.create(t, "Ann")
	r := do(t, "GET", s.URL+"/rooms/"+tk.RoomCode, "", "X-Request-Id", "abc-123")
	if got := r.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("X-Request-Id %q, want the incoming one", got)
	}
	r = do(t, "GET", s.URL+"/readyz", "", "X-Request-Id", "bad id with spaces")
	fresh := r.Header.Get("X-Request-Id")
	if r.Status != http.StatusServiceUnavailable || fresh == "" || fresh == "bad id with spaces" {
		t.Fatalf("readyz: %d, X-Request-Id %q", r.Status, fresh)
	}
	long := strings.Repeat("a", transport.RequestIDMaxLen+1)
	if got := do(t, "GET", s.URL+"/healthz", "", "X-Request-Id", long).Header.Get("X-Request-Id"); got == long || got == "" {
		t.Fatalf("a too long id was kept: %q", got)
	}
	c, _ := member(t, s, tk)
	c.Close()
	waitFor(t, "the socket's disconnect logged", func() bool { return strings.Contains(buf.String(), `"msg":"socket disconnected"`) })

	var access, failed, connected, disconnected int
	for _, l := range logLines(t, &buf) {
		switch l["msg"] {
		case "http request":
			access++
			if l["level"] != "INFO" || l["requestId"] == "" || l["clientIp"] != "127.0.0.1" || l["durationMs"] == nil {
				t.Errorf("access line %v", l)
			}
			if l["route"] == "GET /rooms/{code}" && (l["requestId"] != "abc-123" || l["status"] != float64(200) || l["method"] != "GET") {
				t.Errorf("access line of GET room: %v", l)
			}
			if l["route"] == "GET /readyz" && (l["requestId"] != fresh || l["status"] != float64(503)) {
				t.Errorf("access line of readyz: %v", l)
			}
		case "request failed":
			failed++
			if l["requestId"] != fresh {
				t.Errorf("the error line lacks the request id %q: %v", fresh, l)
			}
		case "socket connected":
			connected++
			if l["namespace"] != rooms.Namespace || l["socket"] == "" || l["level"] != "DEBUG" {
				t.Errorf("connect line %v", l)
			}
		case "socket disconnected":
			disconnected++
			if l["namespace"] != rooms.Namespace || l["reason"] == "" {
				t.Errorf("disconnect line %v", l)
			}
		}
	}
	// POST /rooms, GET room, readyz, healthz, and the Engine.IO handshake.
	if access < 5 || failed != 1 || connected != 1 || disconnected != 1 {
		t.Errorf("%d access lines, %d failures, %d connects, %d disconnects:\n%s", access, failed, connected, disconnected, buf.String())
	}
}

// Without AccessLog no request id is given.
func TestNoAccessLog(t *testing.T) {
	s := newStack(t, options{})
	if got := do(t, "GET", s.URL+"/healthz", "").Header.Get("X-Request-Id"); got != "" {
		t.Fatalf("X-Request-Id %q without AccessLog", got)
	}
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
