package socketio

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A client that stops reading neither holds up a broadcast to the others
// nor makes the server buffer without bound: its backlog is capped and it
// is disconnected. The write deadline is lifted for the test, so a
// broadcast that waited for the stalled client would never return.
func TestSlowConsumerDoesNotBlockBroadcasts(t *testing.T) {
	var slow atomic.Int32
	srv := NewServer(Config{Logger: discardLogger(), OnSlowClient: func() { slow.Add(1) }})
	srv.writeTimeout = time.Hour
	ts := serve(t, srv)
	nsp := srv.Of("/")
	nsp.OnConnect(func(ctx context.Context, s *Socket, _ json.RawMessage) error {
		s.Join("all")
		return nil
	})
	rec := newRecorder()
	nsp.OnDisconnect(rec.onDisconnect)

	stalled, _ := connectNamespace(t, ts, "/")
	if tc, ok := stalled.conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // fill up quickly
	}
	reader, _ := connectNamespace(t, ts, "/")
	waitFor(t, "two sockets", func() bool { return nsp.RoomSize("all") == 2 })

	const n, size = 100, 64 << 10 // 6.4 MB in all: far more than socket buffers and the backlog cap
	payload := strings.Repeat("x", size)
	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for i := range n {
			nsp.Emit("all", "big", i, payload)
		}
	}()
	// The reading client gets every broadcast, in order, although the
	// stalled one never reads.
	for i := 0; i < n; {
		msg, _, err := reader.readMsg(testTimeout)
		if err != nil {
			t.Fatalf("reading broadcast %d: %v", i, err)
		}
		if msg == "2" {
			reader.send("3")
			continue
		}
		if want := `42["big",` + itoa(i) + `,"`; !strings.HasPrefix(msg, want) {
			t.Fatalf("broadcast %d: got %.40q", i, msg)
		}
		i++
	}
	select {
	case <-emitted:
	case <-time.After(testTimeout):
		t.Fatal("the broadcasts are held up by the stalled client")
	}
	if r := rec.wait(t); r != "transport close" && r != "transport error" {
		t.Fatalf("stalled client disconnected with %q", r)
	}
	waitFor(t, "stalled socket gone", func() bool { return nsp.RoomSize("all") == 1 })
	if n := slow.Load(); n != 1 {
		t.Fatalf("OnSlowClient called %d times, want 1", n)
	}
}
