package socketio

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
)

// observed records the observer hooks of a Server.
type observed struct {
	mu                    sync.Mutex
	in, out               map[string]int
	connected, disconnect []string
	refused               []string
}

func (o *observed) config() Config {
	o.in, o.out = map[string]int{}, map[string]int{}
	return Config{
		Logger: discardLogger(),
		OnEventIn: func(ns, ev string) {
			o.mu.Lock()
			o.in[ns+" "+ev]++
			o.mu.Unlock()
		},
		OnEventOut: func(ns, ev string, n int) {
			o.mu.Lock()
			o.out[ns+" "+ev] += n
			o.mu.Unlock()
		},
		OnRefused: func(code string) {
			o.mu.Lock()
			o.refused = append(o.refused, code)
			o.mu.Unlock()
		},
		OnSocketConnected: func(s *Socket) {
			o.mu.Lock()
			o.connected = append(o.connected, s.Namespace()+" "+s.Transport())
			o.mu.Unlock()
		},
		OnSocketDisconnected: func(s *Socket, reason string) {
			o.mu.Lock()
			o.disconnect = append(o.disconnect, s.Namespace()+" "+reason)
			o.mu.Unlock()
		},
	}
}

func (o *observed) get(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f()
}

func counts(srv *Server) string {
	var out []string
	srv.CountSockets(func(ns, tr string, n int) { out = append(out, fmt.Sprintf("%s %s %d", ns, tr, n)) })
	sort.Strings(out)
	return strings.Join(out, ",")
}

// The observers see events in (named only when they have a handler), events
// out (per recipient), connects and disconnects; CountSockets counts by
// transport.
func TestObservers(t *testing.T) {
	var o observed
	srv, ts := newTestServer(t, o.config())
	nsp := srv.Of("/chat")
	nsp.On("hello", func(s *Socket, ev *Event) {
		nsp.Emit("", "hi", "all")
		s.Emit("you")
	})
	a, _ := connectNamespace(t, ts, "/chat")
	b, _ := connectNamespace(t, ts, "/chat")
	if got := counts(srv); got != "/chat websocket 2" {
		t.Fatalf("CountSockets: %q", got)
	}
	a.send(`42/chat,["made-up",1]`)
	a.send(`42/chat,["hello"]`)
	if msg := b.next(); msg != `42/chat,["hi","all"]` {
		t.Fatalf("b got %q", msg)
	}
	if msg := a.next(); msg != `42/chat,["hi","all"]` {
		t.Fatalf("a got %q", msg)
	}
	if msg := a.next(); msg != `42/chat,["you"]` {
		t.Fatalf("a got %q", msg)
	}
	// The observers run after the write that the client has just read:
	// wait until they have been called before checking what they saw.
	waitFor(t, "the events observed", func() bool {
		var n int
		o.get(func() { n = o.out["/chat hi"] + o.out["/chat you"] })
		return n == 3
	})
	o.get(func() {
		if o.in["/chat "] != 1 || o.in["/chat hello"] != 1 || len(o.in) != 2 {
			t.Errorf("events in: %v", o.in)
		}
		if o.out["/chat hi"] != 2 || o.out["/chat you"] != 1 || len(o.out) != 2 {
			t.Errorf("events out: %v", o.out)
		}
		if strings.Join(o.connected, ",") != "/chat websocket,/chat websocket" {
			t.Errorf("connected: %v", o.connected)
		}
	})
	a.send("41/chat,")
	waitFor(t, "the disconnect observed", func() bool {
		var n int
		o.get(func() { n = len(o.disconnect) })
		return n == 1
	})
	o.get(func() {
		if o.disconnect[0] != "/chat client namespace disconnect" {
			t.Errorf("disconnected: %v", o.disconnect)
		}
	})
	if got := counts(srv); got != "/chat websocket 1" {
		t.Fatalf("CountSockets after a disconnect: %q", got)
	}
	b.send("40/nope,")
	if msg := b.next(); !strings.HasPrefix(msg, "44/nope,") {
		t.Fatalf("CONNECT to an unknown namespace: %q", msg)
	}
	waitFor(t, "the refusal observed", func() bool {
		var n int
		o.get(func() { n = len(o.refused) })
		return n > 0
	})
	o.get(func() {
		if strings.Join(o.refused, ",") != "INVALID_NAMESPACE" {
			t.Errorf("refused: %v", o.refused)
		}
	})
}

// A polling socket is counted as such until it upgrades.
func TestCountSocketsPolling(t *testing.T) {
	var o observed
	srv, ts := newTestServer(t, o.config())
	srv.Of("/")
	p := newPollClient(t, ts)
	p.mustPost("40")
	waitFor(t, "the socket connected", func() bool { return counts(srv) == "/ polling 1" })
	o.get(func() {
		if strings.Join(o.connected, ",") != "/ polling" {
			t.Errorf("connected: %v", o.connected)
		}
	})
}
