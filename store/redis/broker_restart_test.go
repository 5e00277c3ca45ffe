package redis_test

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

// redisServer is a redis-server process the test owns, on a fixed port so
// that it can be stopped and started again at the same address.
type redisServer struct {
	t    *testing.T
	bin  string
	port int
	cmd  *exec.Cmd
}

func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin := testenv.LookPath(t, "redis-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &redisServer{t: t, bin: bin, port: port}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: s.addr()})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not answer", s.addr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// A Broker resubscribes its followed targets when Redis restarts: an event
// published after the restart reaches it.
func TestBrokerResubscribesAfterRedisRestart(t *testing.T) {
	srv := startRedisServer(t)
	ctx := context.Background()
	client := goredis.NewClient(&goredis.Options{Addr: srv.addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	sub, pub := redis.NewBroker(client, "r:"), redis.NewBroker(client, "r:")
	got := make(chan rv.Event, 100)
	unsubscribe, err := sub.Subscribe(ctx, func(ev rv.Event) { got <- ev })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsubscribe)
	if err := sub.Follow(ctx, "/rooms", "room:A"); err != nil {
		t.Fatal(err)
	}
	if err := pub.Notify(ctx, rv.NewEvent("/rooms", "room:A", "before", nil)); err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, got); ev.Name != "before" {
		t.Fatalf("got %+v", ev)
	}

	srv.stop()
	srv.start()

	// The subscriber reconnects on its own; publish until an event arrives.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		_ = pub.Notify(ctx, rv.NewEvent("/rooms", "room:A", "after", nil))
		select {
		case ev := <-got:
			if ev.Name != "after" {
				t.Fatalf("got %+v, want the event published after the restart", ev)
			}
			// A target followed after the restart works too.
			if err := sub.Follow(ctx, "/rooms", "room:B"); err != nil {
				t.Fatal(err)
			}
			if err := pub.Notify(ctx, rv.NewEvent("/rooms", "room:B", "new", nil)); err != nil {
				t.Fatal(err)
			}
			for ev := receive(t, got); ev.Name != "new"; ev = receive(t, got) {
				if ev.Name != "after" {
					t.Fatalf("got %+v, want the event of room:B", ev)
				}
			}
			return
		case <-deadline:
			t.Fatal("no event delivered after the Redis restart")
		case <-tick.C:
		}
	}
}

func receive(t *testing.T, ch <-chan rv.Event) rv.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event delivered")
		return rv.Event{}
	}
}
