package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/logbuf"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/rooms"
)

func TestObservabilityConfig(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil || c.Host != "" || !c.Metrics || c.DebugAddr != "" || listenAddr(c) != ":3000" {
		t.Fatalf("defaults: host %q metrics %v debug %q addr %q, %v", c.Host, c.Metrics, c.DebugAddr, listenAddr(c), err)
	}
	c, err = loadConfig(env(map[string]string{"HOST": "127.0.0.1", "PORT": "8080", "METRICS": "false", "DEBUG_ADDR": "127.0.0.1:6060"}))
	if err != nil || c.Metrics || c.DebugAddr != "127.0.0.1:6060" || listenAddr(c) != "127.0.0.1:8080" {
		t.Fatalf("set: metrics %v debug %q addr %q, %v", c.Metrics, c.DebugAddr, listenAddr(c), err)
	}
	if c, _ := loadConfig(env(map[string]string{"HOST": "::1"})); listenAddr(c) != "[::1]:3000" {
		t.Fatalf("IPv6 HOST: %q", listenAddr(c))
	}
	for name, v := range map[string]string{"HOST": "a b", "METRICS": "maybe", "DEBUG_ADDR": "6060"} {
		if _, err := loadConfig(env(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v", name, v, err)
		}
	}
}

// startLogged runs the server with vars, logging JSON at LOG_LEVEL to buf.
func startLogged(t *testing.T, vars map[string]string, buf *logbuf.Buffer) string {
	t.Helper()
	cfg, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, newLogger(buf, cfg.LogLevel))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", listenAddr(cfg))
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln, ready) }()
	addr := <-ready
	t.Cleanup(func() {
		cancel()
		<-done
		a.close()
	})
	return "http://" + addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// logged returns the JSON lines of buf with message msg.
func logged(t *testing.T, buf *logbuf.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// The reference server serves /metrics with the library's families (route
// patterns as labels) and the process's, logs every request, and serves
// pprof on DEBUG_ADDR only.
func TestMetricsAccessLogAndPprof(t *testing.T) {
	var buf logbuf.Buffer
	base := startLogged(t, map[string]string{"HOST": "127.0.0.1", "PORT": "0", "DEBUG_ADDR": "127.0.0.1:0", "LOG_LEVEL": "debug"}, &buf)
	res, body := post(t, base+"/rooms", `{"displayName":"Ann"}`, "X-Request-Id", "trace-42")
	if res.StatusCode != http.StatusCreated || res.Header.Get("X-Request-Id") != "trace-42" {
		t.Fatalf("POST /rooms: %d %s, X-Request-Id %q", res.StatusCode, body, res.Header.Get("X-Request-Id"))
	}
	var tk rooms.Ticket
	if err := json.Unmarshal(body, &tk); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, base+"/rooms/"+tk.RoomCode); status != http.StatusOK {
		t.Fatalf("GET room: %d", status)
	}
	c, err := siotest.Dial(context.Background(), base, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p, err := c.Connect(rooms.Namespace, map[string]string{"token": tk.Token}, 20*time.Second); err != nil || p.Type != 0 {
		t.Fatalf("connect: %+v %v", p, err)
	}
	if _, err := c.WaitEvent(rooms.Namespace, rooms.EventState, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	// The connect publishes the member's presence through the broker.
	var status int
	var out string
	for deadline := time.Now().Add(20 * time.Second); ; {
		status, out = get(t, base+"/metrics")
		if strings.Contains(out, `rendezvous_broker_publish_duration_seconds_count{result="ok"}`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	for _, want := range []string{
		`rendezvous_http_requests_total{method="POST",route="POST /rooms",status="201"} 1`,
		`rendezvous_http_requests_total{method="GET",route="GET /rooms/{code}",status="200"} 1`,
		`rendezvous_socketio_sockets{namespace="/rooms",transport="websocket"} 1`,
		`rendezvous_socketio_events_sent_total{event="room:state",namespace="/rooms"}`,
		`rendezvous_broker_publish_duration_seconds_count{result="ok"}`,
		`rendezvous_queue_waiting 0`,
		`rendezvous_sessions_live 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(out, tk.RoomCode) {
		t.Errorf("a room code leaked into the metrics")
	}

	// pprof is never on the public listener, and is on DEBUG_ADDR.
	if status, _ := get(t, base+"/debug/pprof/"); status != http.StatusNotFound {
		t.Errorf("public /debug/pprof/: %d, want 404", status)
	}
	dbg := logged(t, &buf, "debug listening (pprof)")
	if len(dbg) != 1 {
		t.Fatalf("debug listener lines: %v", dbg)
	}
	if status, body := get(t, "http://"+dbg[0]["addr"].(string)+"/debug/pprof/"); status != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof on DEBUG_ADDR: %d", status)
	}

	var postLogged bool
	for _, l := range logged(t, &buf, "http request") {
		if l["route"] == "POST /rooms" {
			postLogged = l["requestId"] == "trace-42" && l["status"] == float64(201) && l["clientIp"] == "127.0.0.1"
		}
	}
	if !postLogged {
		t.Errorf("no access line for POST /rooms with its request id:\n%s", buf.String())
	}
	if len(logged(t, &buf, "socket connected")) != 1 {
		t.Errorf("no DEBUG line of the socket's connect")
	}
}

// METRICS=false leaves /metrics out.
func TestMetricsOff(t *testing.T) {
	var buf logbuf.Buffer
	base := startLogged(t, map[string]string{"HOST": "127.0.0.1", "PORT": "0", "METRICS": "false"}, &buf)
	if status, _ := get(t, base+"/metrics"); status != http.StatusNotFound {
		t.Fatalf("GET /metrics with METRICS=false: %d", status)
	}
}
