package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
)

// wait bounds every awaited event; generous, since tests share the machine.
const wait = 20 * time.Second

var testSecret = []byte("embed-test-secret-embed-test-secret!")

// readme returns the repository's README.md.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fencedBlock returns the body of the first ```lang block after heading in
// doc.
func fencedBlock(t *testing.T, doc, heading, lang string) string {
	t.Helper()
	_, section, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README has no %q heading", heading)
	}
	_, block, ok := strings.Cut(section, "\n```"+lang+"\n")
	if !ok {
		t.Fatalf("README section %q has no ```%s block", heading, lang)
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatalf("README section %q: the ```%s block does not end", heading, lang)
	}
	return block + "\n"
}

// TestREADMESnippetIsTheProgram checks that the README's embedding snippet
// is, character for character, the marked region of mount in main.go, so
// that the snippet always compiles (go vet and make build compile this
// program) and does what the program does.
func TestREADMESnippetIsTheProgram(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "\t// README snippet: begin\n", "\t// README snippet: end\n"
	_, region, ok := strings.Cut(string(src), begin)
	if !ok {
		t.Fatalf("main.go has no %q marker", strings.TrimSpace(begin))
	}
	region, _, ok = strings.Cut(region, end)
	if !ok {
		t.Fatalf("main.go has no %q marker after the beginning", strings.TrimSpace(end))
	}
	snippet := fencedBlock(t, readme(t), "### Embedding in your own server", "go")
	if snippet != region {
		t.Errorf("the README's embedding snippet differs from the marked region of examples/embed/main.go; copy the region into the README.\n%s", firstDifference(snippet, region))
	}
}

// firstDifference describes the first line where a and b differ.
func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d of the snippet:\n README:  %q\n main.go: %q", i+1, x, y)
		}
	}
	return "they differ in length"
}

// instance runs serve until the test ends and returns its base URL.
func instance(t *testing.T, o options) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	o.addr = "127.0.0.1:0"
	o.secret = testSecret
	go func() { done <- serve(ctx, o, slog.New(slog.DiscardHandler), ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(wait):
		t.Fatal("serve did not listen")
	}
	return ""
}

// session is the answer of POST /api/rooms and /api/rooms/{code}/join.
type session struct {
	RoomCode, Token, UserID string
}

func postJSON(t *testing.T, url, body string) session {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s %s", url, res.Status, b)
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil || s.Token == "" {
		t.Fatalf("POST %s: %s: %v", url, b, err)
	}
	return s
}

// connectRooms opens a WebSocket to base, joins /rooms with token and
// waits for room:state.
func connectRooms(t *testing.T, base, token string) *siotest.Client {
	t.Helper()
	c, err := siotest.Dial(context.Background(), base, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", base, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	p, err := c.Connect("/rooms", map[string]string{"token": token}, wait)
	if err != nil || p.Type != 0 {
		t.Fatalf("connect /rooms at %s: %+v, %v", base, p, err)
	}
	if _, err := c.WaitEvent("/rooms", "room:state", wait); err != nil {
		t.Fatalf("room:state at %s: %v", base, err)
	}
	return c
}

// waitMove waits for game:moved on c and checks the move.
func waitMove(t *testing.T, c *siotest.Client, who string, x, y int) {
	t.Helper()
	raw, err := c.WaitEvent("/rooms", "game:moved", wait)
	if err != nil {
		t.Fatalf("%s: no game:moved: %v", who, err)
	}
	var m struct{ X, Y int }
	if err := json.Unmarshal(raw, &m); err != nil || m.X != x || m.Y != y {
		t.Errorf("%s: game:moved %s, want x %d, y %d", who, raw, x, y)
	}
}

func TestEmbedServesRendezvousBesideTheHostRoutes(t *testing.T) {
	base := instance(t, options{})
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "own page") {
		t.Errorf("GET /: %s %q", res.Status, page)
	}

	host := postJSON(t, base+"/api/rooms", `{"displayName":"Alice"}`)
	guest := postJSON(t, base+"/api/rooms/"+host.RoomCode+"/join", `{"displayName":"Bob"}`)
	hc, gc := connectRooms(t, base, host.Token), connectRooms(t, base, guest.Token)

	args, err := hc.EmitAck("/rooms", "game:move", wait, map[string]int{"x": 3, "y": 4})
	if err != nil || len(args) != 1 || !strings.Contains(string(args[0]), `"ok":true`) {
		t.Fatalf("game:move ack %s, %v", args, err)
	}
	waitMove(t, hc, "host", 3, 4)
	waitMove(t, gc, "guest", 3, 4)

	args, err = hc.EmitAck("/rooms", "game:move", wait, "not a move")
	if err != nil || len(args) != 1 || !strings.Contains(string(args[0]), `"INVALID_PAYLOAD"`) {
		t.Errorf("bad game:move ack %s, %v", args, err)
	}
}

// TestSeveralInstancesBehindNginx runs the README's nginx configuration in
// front of two instances that share one Redis, and checks what the README
// promises: a long-polling session works through nginx (sticky sessions),
// so does a WebSocket (the Upgrade headers), and an event sent on one
// instance reaches members connected to the other.
func TestSeveralInstancesBehindNginx(t *testing.T) {
	nginx := testenv.LookPath(t, "nginx")
	_, prefix := testenv.Redis(t)
	o := options{redisURL: testenv.RedisURL(t), redisPrefix: prefix}
	backends := []string{instance(t, o), instance(t, o)}

	// Without stickiness, a session dies: it lives in one process.
	sid := pollingHandshake(t, backends[0])
	res, err := http.Post(backends[1]+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain;charset=UTF-8", strings.NewReader("40/rooms,"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Session ID unknown") {
		t.Errorf("a session of instance 1 at instance 2: %s %s, want 400 Session ID unknown", res.Status, body)
	}
	pollingPost(t, backends[0], sid, "1") // close it

	proxy := startNginx(t, nginx, fencedBlock(t, readme(t), "## Running several instances", "nginx"), backends)

	host := postJSON(t, proxy+"/api/rooms", `{"displayName":"Alice"}`)
	join := func(name string) session {
		return postJSON(t, proxy+"/api/rooms/"+host.RoomCode+"/join", `{"displayName":"`+name+`"}`)
	}
	poller, ws, direct0, direct1 := join("Polly"), join("Wes"), join("Dee"), join("Dan")

	// Long-polling through nginx: handshake, CONNECT, then room:state,
	// over several requests that must all reach the same instance.
	sid = pollingHandshake(t, proxy)
	pollingPost(t, proxy, sid, `40/rooms,{"token":"`+poller.Token+`"}`)
	pollUntil(t, proxy, sid, `42/rooms,["room:state"`)

	// WebSocket through nginx, and one member on each instance directly.
	hc := connectRooms(t, proxy, host.Token)
	wc := connectRooms(t, proxy, ws.Token)
	d0 := connectRooms(t, backends[0], direct0.Token)
	d1 := connectRooms(t, backends[1], direct1.Token)

	if _, err := hc.EmitAck("/rooms", "game:move", wait, map[string]int{"x": 1, "y": 2}); err != nil {
		t.Fatalf("game:move through nginx: %v", err)
	}
	waitMove(t, wc, "the other WebSocket through nginx", 1, 2)
	waitMove(t, d0, "the member on instance 1", 1, 2)
	waitMove(t, d1, "the member on instance 2", 1, 2)
	pollUntil(t, proxy, sid, `42/rooms,["game:moved",{"x":1,"y":2}]`)
	pollingPost(t, proxy, sid, "1") // close it, instead of letting shutdown wait for its last poll
}

// pollingHandshake opens an Engine.IO long-polling session at base and
// returns its sid.
func pollingHandshake(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	var open struct{ SID string }
	if res.StatusCode != 200 || len(b) == 0 || b[0] != '0' || json.Unmarshal(b[1:], &open) != nil || open.SID == "" {
		t.Fatalf("polling handshake at %s: %s %q", base, res.Status, b)
	}
	return open.SID
}

// pollingPost sends one Engine.IO payload of a polling session.
func pollingPost(t *testing.T, base, sid, payload string) {
	t.Helper()
	res, err := http.Post(base+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain;charset=UTF-8", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("polling POST %q: %s %s", payload, res.Status, b)
	}
}

// pollUntil polls the session until a packet starts with want, answering
// the server's pings.
func pollUntil(t *testing.T, base, sid, want string) {
	t.Helper()
	client := &http.Client{Timeout: time.Minute} // a poll is held until the next ping
	deadline := time.Now().Add(wait)
	var seen []string
	for time.Now().Before(deadline) {
		res, err := client.Get(base + "/socket.io/?EIO=4&transport=polling&sid=" + sid)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("polling GET: %s %s (packets so far %q)", res.Status, b, seen)
		}
		for _, p := range bytes.Split(b, []byte{0x1e}) {
			switch {
			case strings.HasPrefix(string(p), want):
				return
			case string(p) == "2":
				pollingPost(t, base, sid, "3")
			}
			seen = append(seen, string(p))
		}
	}
	t.Fatalf("no packet %q through polling; got %q", want, seen)
}

// startNginx runs nginx with conf (the README's block, for the http
// context) in front of backends, on a free loopback port, and returns its
// base URL once it proxies to them.
func startNginx(t *testing.T, nginx, conf string, backends []string) string {
	t.Helper()
	// The README's block names the instances 127.0.0.1:3001 and :3002 and
	// listens on port 80.
	for i, b := range backends {
		from := fmt.Sprintf("server 127.0.0.1:%d;", 3001+i)
		if strings.Count(conf, from) != 1 {
			t.Fatalf("the README's nginx block has no single %q line", from)
		}
		conf = strings.Replace(conf, from, "server "+strings.TrimPrefix(b, "http://")+";", 1)
	}
	if strings.Count(conf, "listen 80;") != 1 {
		t.Fatal(`the README's nginx block has no single "listen 80;" line`)
	}
	dir := t.TempDir()
	var lastErr error
	for range 5 { // another process may take the free port first
		port := freePort(t)
		site := strings.Replace(conf, "listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", port), 1)
		main := testenv.NginxMainConf(t, dir, site)
		if out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", main).CombinedOutput(); err != nil {
			t.Fatalf("nginx -t rejects the README's configuration: %v\n%s", err, out)
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		exited := testenv.RunNginx(t, nginx, dir, main)
		if lastErr = waitProxying(base, exited); lastErr == nil {
			return base
		}
	}
	logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	t.Fatalf("nginx did not proxy: %v\n%s", lastErr, logs)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitProxying waits until base answers the host's own page through
// nginx, which proves it is this test's nginx in front of this test's
// instances.
func waitProxying(base string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(wait)
	for {
		res, err := client.Get(base + "/")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode == 200 && strings.Contains(string(b), "own page") {
				return nil
			}
			err = fmt.Errorf("GET / through nginx: %s %q", res.Status, b)
		}
		select {
		case <-exited:
			return fmt.Errorf("nginx exited (%v)", err)
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
