package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
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
