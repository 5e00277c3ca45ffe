package transport_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// connectResult is the outcome of one connect attempt.
type connectResult struct {
	client *siotest.Client
	ok     bool   // CONNECT
	code   string // data.code of a CONNECT_ERROR
	msg    string
	err    error
}

// tryConnect opens a connection and connects it to ns with auth, without
// failing the test (it may run on another goroutine).
func tryConnect(s *stack, ns string, auth any) connectResult {
	c, err := siotest.Dial(context.Background(), s.URL, nil)
	if err != nil {
		return connectResult{err: err}
	}
	p, err := c.Connect(ns, auth, wait)
	if err != nil {
		c.Close()
		return connectResult{err: err}
	}
	r := connectResult{client: c, ok: p.Type == 0}
	if p.Type == 4 {
		var e struct {
			Message string `json:"message"`
			Data    struct {
				Code string `json:"code"`
			} `json:"data"`
		}
		_ = json.Unmarshal(p.Data, &e)
		r.code, r.msg = e.Data.Code, e.Message
	}
	return r
}

// connectMany connects n sockets to ns at once and returns the outcomes.
func connectMany(t *testing.T, s *stack, ns string, auth any, n int) (accepted []*siotest.Client, refused map[string]int) {
	t.Helper()
	results := make([]connectResult, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = tryConnect(s, ns, auth)
		}()
	}
	close(start)
	wg.Wait()
	refused = map[string]int{}
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Fatalf("connect: %v", r.err)
		case r.ok:
			accepted = append(accepted, r.client)
			t.Cleanup(func() { r.client.Close() })
		default:
			if r.msg == "" {
				t.Errorf("CONNECT_ERROR %s without a message", r.code)
			}
			refused[r.code]++
			r.client.Close()
		}
	}
	return accepted, refused
}

// eventually retries try until it reports true, for at most 20 s: for
// effects the server applies asynchronously after a disconnection.
func eventually(t *testing.T, what string, try func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !try() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not the case after 20 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// countEvents removes the buffered events name on ns whose payload
// matches and returns how many there were.
func countEvents(c *siotest.Client, ns, name string, match func(json.RawMessage) bool) int {
	n := 0
	for {
		_, err := c.Wait(0, func(p siotest.Packet) bool {
			ev, args := p.Event()
			return p.Type == 2 && p.Namespace == ns && ev == name && len(args) > 0 && match(args[0])
		})
		if err != nil {
			return n
		}
		n++
	}
}

func isUser(id string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var p struct{ User rooms.User }
		return json.Unmarshal(raw, &p) == nil && p.User.ID == id
	}
}

// A member opening sockets at once with one token gets exactly
// MaxSocketsPerUser of them (default 5); the others are refused with
// TOO_MANY_SOCKETS before anything is written or broadcast, and the
// count is given back exactly once per closed socket.
func TestSocketsPerUserCap(t *testing.T) {
	store := memory.NewRoomStore(nil)
	s := newStack(t, options{store: store})
	host := s.create(t, "Host")
	bob := s.join(t, host.RoomCode, "Bob")
	hc, _ := member(t, s, host)
	waitEvent(t, hc, rooms.EventUserConnected, nil) // the host's own

	const n = 40
	auth := map[string]string{"token": bob.Token}
	accepted, refused := connectMany(t, s, rooms.Namespace, auth, n)
	if len(accepted) != 5 || refused["TOO_MANY_SOCKETS"] != n-5 {
		t.Fatalf("%d accepted, refused %v; want 5 accepted and %d TOO_MANY_SOCKETS", len(accepted), refused, n-5)
	}
	m, err := store.Member(context.Background(), host.RoomCode, bob.UserID)
	if err != nil || m.Sockets != 5 {
		t.Fatalf("store has %d presence entries (%v), want 5", m.Sockets, err)
	}
	// Every user:connected published so far reaches the host before the
	// lock toggle published after it (one target, one order).
	ack(t, hc, rooms.EventToggleLock)
	waitEvent(t, hc, rooms.EventLockToggled, nil)
	if got := countEvents(hc, rooms.Namespace, rooms.EventUserConnected, isUser(bob.UserID)); got != 5 {
		t.Fatalf("the room got %d user:connected for Bob, want 5", got)
	}

	// Closing every socket gives every slot back: once the room hears
	// user:disconnected, five new sockets fit again, and not a sixth.
	for _, c := range accepted {
		go c.Close()
	}
	waitEvent(t, hc, rooms.EventUserDisconnected, nil)
	again, refused := connectMany(t, s, rooms.Namespace, auth, 6)
	if len(again) != 5 || refused["TOO_MANY_SOCKETS"] != 1 {
		t.Fatalf("after the disconnections: %d accepted, refused %v; want 5 and 1 TOO_MANY_SOCKETS", len(again), refused)
	}
	// One closed socket frees one slot.
	again[0].Close()
	eventually(t, "a slot freed by a closed socket", func() bool {
		r := tryConnect(s, rooms.Namespace, auth)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.client != nil {
			t.Cleanup(func() { r.client.Close() })
		}
		if !r.ok && r.code != "TOO_MANY_SOCKETS" {
			t.Fatalf("connect: %s", r.code)
		}
		return r.ok
	})
	if r := tryConnect(s, rooms.Namespace, auth); r.ok || r.code != "TOO_MANY_SOCKETS" {
		t.Fatalf("a sixth socket: ok=%v code=%q", r.ok, r.code)
	}
}

func TestSocketsPerUserCapDisabled(t *testing.T) {
	s := newStack(t, options{maxSockets: -1})
	host := s.create(t, "Host")
	accepted, refused := connectMany(t, s, rooms.Namespace, map[string]string{"token": host.Token}, 12)
	if len(accepted) != 12 {
		t.Fatalf("%d accepted, refused %v; want all 12 with the cap disabled", len(accepted), refused)
	}
}

// UserNamespace applies the cap per user and per namespace, and a socket
// refused by the application's own connect handler, or closed while it
// runs, gives its slot back.
func TestSocketsPerUserCapUserNamespace(t *testing.T) {
	s := newStack(t, options{maxSockets: 2})
	s.T.UserNamespace("/cap", s.Accounts, nil)
	s.T.UserNamespace("/cap2", s.Accounts, nil)
	a, b := s.signup(t), s.signup(t)
	authA := map[string]string{"token": a.Access}

	accepted, refused := connectMany(t, s, "/cap", authA, 6)
	if len(accepted) != 2 || refused["TOO_MANY_SOCKETS"] != 4 {
		t.Fatalf("%d accepted, refused %v; want 2 and 4 TOO_MANY_SOCKETS", len(accepted), refused)
	}
	if r := tryConnect(s, "/cap", map[string]string{"token": b.Access}); !r.ok {
		t.Fatalf("another user is refused: %q", r.code)
	} else {
		defer r.client.Close()
	}
	if r := tryConnect(s, "/cap2", authA); !r.ok {
		t.Fatalf("the same user in another namespace is refused: %q", r.code)
	} else {
		defer r.client.Close()
	}
	accepted[0].Close()
	eventually(t, "a slot freed in /cap", func() bool {
		r := tryConnect(s, "/cap", authA)
		if r.client != nil {
			t.Cleanup(func() { r.client.Close() })
		}
		return r.ok
	})

	// The application refuses every connection: no slot is kept.
	s.T.UserNamespace("/refuse", s.Accounts, func(ctx context.Context, sock *socketio.Socket, _ json.RawMessage) error {
		return &socketio.ConnectError{Message: "no", Data: map[string]string{"code": "APP_REFUSED"}}
	})
	for i := range 5 {
		eventually(t, "refusal by the application", func() bool {
			r := tryConnect(s, "/refuse", authA)
			if r.client != nil {
				r.client.Close()
			}
			if r.ok {
				t.Fatalf("attempt %d accepted", i)
			}
			return r.code == "APP_REFUSED"
		})
	}

	// A connection closed while the application's handler runs gives its
	// slot back too: the handler returns only once the socket is gone.
	entered := make(chan struct{})
	var first sync.Once
	s.T.UserNamespace("/slow", s.Accounts, func(ctx context.Context, sock *socketio.Socket, _ json.RawMessage) error {
		block := false
		first.Do(func() { block = true })
		if block {
			close(entered)
			select {
			case <-sock.Context().Done():
			case <-time.After(wait):
				t.Error("the socket of a closed connection was not canceled")
			}
		}
		return nil
	})
	// Over HTTP long-polling the connect handler runs on the POST that
	// carried the CONNECT, so the session can close meanwhile: a second
	// POST overlapping the first closes it.
	sid := pollingHandshake(t, s)
	token, _ := json.Marshal(authA)
	go pollingPost(s, sid, "40/slow,"+string(token))
	<-entered
	pollingPost(s, sid, "1")
	eventually(t, "two sockets after one closed while connecting", func() bool {
		var ok int
		for range 2 {
			r := tryConnect(s, "/slow", authA)
			if r.client != nil {
				defer r.client.Close()
			}
			if r.ok {
				ok++
			}
		}
		return ok == 2
	})
}

// pollingHandshake opens an HTTP long-polling Engine.IO session and
// returns its sid.
func pollingHandshake(t *testing.T, s *stack) string {
	t.Helper()
	r := do(t, "GET", s.URL+"/socket.io/?EIO=4&transport=polling", "")
	var open struct{ SID string }
	if r.Status != 200 || len(r.Body) == 0 || r.Body[0] != '0' || json.Unmarshal(r.Body[1:], &open) != nil {
		t.Fatalf("polling handshake: %d %s", r.Status, r.Body)
	}
	return open.SID
}

// pollingPost sends one Engine.IO payload on a polling session.
func pollingPost(s *stack, sid, payload string) {
	res, err := http.Post(s.URL+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain;charset=UTF-8", strings.NewReader(payload))
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
