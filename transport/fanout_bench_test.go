package transport_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	redisstore "github.com/rendezvous-go/rendezvous/store/redis"
	"github.com/rendezvous-go/rendezvous/transport"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// BenchmarkBroadcast publishes one event at a time to a target joined by
// every one of N real WebSocket clients on loopback TCP, through the whole
// delivery path (Broker, fan-out worker, Namespace.Emit, one write per
// socket), and waits until every client has read it. Custom metrics:
// p50-ms and p99-ms of publish → client read over all deliveries, and
// deliveries/op. allocs/op counts the whole process per broadcast (the
// clients read into fixed buffers and allocate nothing), so it is the
// server's allocations per broadcast. The Redis variants need
// RENDEZVOUS_TEST_REDIS_URL.
func BenchmarkBroadcast(b *testing.B) {
	for _, broker := range []string{"memory", "redis"} {
		for _, n := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/members=%d", broker, n), func(b *testing.B) {
				var o options
				o.connectRate = -1
				if broker == "redis" {
					client, prefix := testenv.Redis(b)
					o.broker = redisstore.NewBroker(client, prefix)
				}
				benchBroadcast(b, o, n)
			})
		}
	}
}

func benchBroadcast(b *testing.B, o options, n int) {
	s := newStack(b, o)
	const ns, target = "/bench", "room:BENCH"
	s.T.SocketIO().Of(ns).OnConnect(func(ctx context.Context, sock *socketio.Socket, auth json.RawMessage) error {
		sock.Join(target)
		return nil
	})
	var sent atomic.Int64 // UnixNano of the current publish
	clients := make([]*benchClient, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, n)
	for i := range clients {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := dialBench(s.URL, ns)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		for _, c := range clients {
			c.conn.Close()
		}
	})
	if got := s.T.SocketIO().Of(ns).RoomSize(target); got != n {
		b.Fatalf("room size %d, want %d", got, n)
	}

	lat := make([]time.Duration, 0, n*min(b.N, 10000))
	arrivals := make(chan time.Duration, n)
	for _, c := range clients {
		go c.readLoop(&sent, arrivals)
	}
	ev := rv.NewEvent(ns, target, "room:lock_toggled", map[string]bool{"isLocked": true})
	ctx := context.Background()
	// One warm-up broadcast, so that pools and buffers are in place.
	broadcastOnce(b, s.Broker, ctx, ev, &sent, arrivals, n, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		broadcastOnce(b, s.Broker, ctx, ev, &sent, arrivals, n, &lat)
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(float64(n), "deliveries/op")
}

func broadcastOnce(b *testing.B, br transport.Broker, ctx context.Context, ev rv.Event, sent *atomic.Int64, arrivals chan time.Duration, n int, lat *[]time.Duration) {
	sent.Store(time.Now().UnixNano())
	if err := br.Notify(ctx, ev); err != nil {
		b.Fatal(err)
	}
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for range n {
		select {
		case d := <-arrivals:
			if lat != nil && len(*lat) < cap(*lat) {
				*lat = append(*lat, d)
			}
		case <-deadline.C:
			b.Fatal("a client did not receive the broadcast within 30 s")
		}
	}
}

// benchClient is a minimal Socket.IO WebSocket client that reads into a
// fixed buffer, so that the benchmark counts the server's allocations.
type benchClient struct {
	conn net.Conn
	r    *bufio.Reader
	hdr  [2]byte
	buf  [4096]byte
}

func dialBench(base, ns string) (*benchClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := strings.Replace(base, "http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
	conn, br, _, err := ws.Dialer{}.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	c := &benchClient{conn: conn, r: bufio.NewReaderSize(r, 4096)}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if msg, err := c.next(); err != nil || !strings.HasPrefix(string(msg), "0") {
		conn.Close()
		return nil, fmt.Errorf("open packet %q: %v", msg, err)
	}
	if err := wsutil.WriteClientText(conn, []byte("40"+ns+",")); err != nil {
		conn.Close()
		return nil, err
	}
	if msg, err := c.next(); err != nil || !strings.HasPrefix(string(msg), "40"+ns+",{") {
		conn.Close()
		return nil, fmt.Errorf("connect reply %q: %v", msg, err)
	}
	conn.SetDeadline(time.Time{})
	return c, nil
}

// next reads one unfragmented, unmasked server frame into c.buf, answering
// Engine.IO pings.
func (c *benchClient) next() ([]byte, error) {
	for {
		if _, err := io.ReadFull(c.r, c.hdr[:]); err != nil {
			return nil, err
		}
		n := int(c.hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(c.r, c.hdr[:]); err != nil {
				return nil, err
			}
			n = int(binary.BigEndian.Uint16(c.hdr[:]))
		case 127:
			return nil, fmt.Errorf("frame too large for the benchmark client")
		}
		if n > len(c.buf) {
			return nil, fmt.Errorf("frame of %d bytes too large for the benchmark client", n)
		}
		msg := c.buf[:n]
		if _, err := io.ReadFull(c.r, msg); err != nil {
			return nil, err
		}
		if n == 1 && msg[0] == '2' {
			if err := wsutil.WriteClientText(c.conn, []byte("3")); err != nil {
				return nil, err
			}
			continue
		}
		return msg, nil
	}
}

// readLoop reports the delay since *sent of every event it reads.
func (c *benchClient) readLoop(sent *atomic.Int64, arrivals chan<- time.Duration) {
	for {
		msg, err := c.next()
		if err != nil {
			return
		}
		if len(msg) > 1 && msg[0] == '4' && msg[1] == '2' {
			arrivals <- time.Duration(time.Now().UnixNano() - sent.Load())
		}
	}
}
