package socketio

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

// A client that stops reading neither delays a broadcast to the others nor
// makes the server buffer without bound: its backlog is capped and it is
// disconnected.
func TestSlowConsumerDoesNotBlockBroadcasts(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
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
	got := make(chan int, 1)
	go func() {
		count := 0
		for count < n {
			msg, _, err := reader.readMsg(10 * time.Second)
			if err != nil {
				break
			}
			if strings.HasPrefix(msg, `42["big"`) {
				count++
			}
		}
		got <- count
	}()
	payload := strings.Repeat("x", size)
	began := time.Now()
	for i := 0; i < n; i++ {
		nsp.Emit("all", "big", payload)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("%d broadcasts took %s: the stalled client held them up", n, d)
	}
	if c := <-got; c != n {
		t.Fatalf("the reading client got %d of %d broadcasts", c, n)
	}
	if r := rec.wait(t); r != "transport close" && r != "transport error" {
		t.Fatalf("stalled client disconnected with %q", r)
	}
	waitFor(t, "stalled socket gone", func() bool { return nsp.RoomSize("all") == 1 })
}
