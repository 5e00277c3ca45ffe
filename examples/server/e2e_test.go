package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
)

// e2eJWTSecret signs the tokens of every instance started by TestE2E; the
// Node suite gets it too, to forge expired tokens.
const e2eJWTSecret = "e2e-test-secret-0123456789abcdef"

// The moderation webhook secret and the operators' token of the dating
// instances, which the Node suite signs and authenticates with.
const (
	e2eHiveSecret = "e2e-hive-secret-0123456789"
	e2eAdminToken = "e2e-admin-token-0123456789"
)

// TestE2E runs the Node end-to-end suite in ../../e2e (the official
// socket.io-client against real servers backed by Redis) twice: with the
// client's default transports (long-polling, then the upgrade to WebSocket)
// and WebSocket only.
//
// It needs node on PATH, `npm ci` run in e2e/, a Redis server and, for the
// dating loop's two instances, a Postgres server (see internal/testenv).
// Without them it skips, or fails when RENDEZVOUS_REQUIRE_INTEGRATION=1.
func TestE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end suite skipped in -short mode")
	}
	node, dir := nodeSuite(t, "the end-to-end suite", "socket.io-client")

	redisURL := testenv.RedisURL(t)
	_, sharedPrefix := testenv.Redis(t)
	_, closePrefix := testenv.Redis(t)

	logs := &testLog{t: t}
	t.Cleanup(logs.stop) // runs last: after every server has stopped

	base := func(prefix string, extra map[string]string) map[string]string {
		env := map[string]string{
			"REDIS_URL":           redisURL,
			"REDIS_PREFIX":        prefix,
			"JWT_SECRET":          e2eJWTSecret,
			"THROTTLE_LIMIT":      "100000",
			"LOG_LEVEL":           "error",
			"SHUTDOWN_TIMEOUT_MS": "5000",
			"SIGNUP_BONUS_TOKENS": "0", // the dating instances set their own
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	// Two instances on one prefix behave as one deployment.
	url1 := startE2EServer(t, logs, "main", base(sharedPrefix, nil))
	url2 := startE2EServer(t, logs, "second", base(sharedPrefix, nil))
	urlClose := startE2EServer(t, logs, "close-on-host-leave", base(closePrefix, map[string]string{"ROOM_CLOSE_ON_HOST_LEAVE": "true"}))
	// The dating loop on two instances sharing Redis and Postgres, with
	// short calls, windows and grace so that the suite runs it whole.
	_, datingPrefix := testenv.Redis(t)
	dating := base(datingPrefix, map[string]string{
		"DATABASE_URL":                   schemaURL(t),
		"SIGNUP_BONUS_TOKENS":            "3",
		"SESSION_DURATION_SECONDS":       "2",
		"OPTIN_WINDOW_SECONDS":           "5",
		"QUEUE_DISCONNECT_GRACE_SECONDS": "1",
		"QUEUE_TICK_MS":                  "100",
		"HIVE_WEBHOOK_SECRET":            e2eHiveSecret,
		"ADMIN_TOKEN":                    e2eAdminToken,
	})
	urlDating1 := startE2EServer(t, logs, "dating-1", dating)
	urlDating2 := startE2EServer(t, logs, "dating-2", dating)

	for _, mode := range []string{"default", "websocket"} {
		t.Run(mode, func(t *testing.T) {
			// A throttled instance per run, on its own prefix, so that each
			// run starts with a fresh rate-limit window.
			_, throttlePrefix := testenv.Redis(t)
			urlThrottled := startE2EServer(t, logs, "throttled-"+mode, base(throttlePrefix, map[string]string{"THROTTLE_LIMIT": "3"}))

			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "tests/")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(),
				"BASE_URL="+url1,
				"BASE_URL_2="+url2,
				"BASE_URL_THROTTLED="+urlThrottled,
				"BASE_URL_CLOSE_ON_HOST_LEAVE="+urlClose,
				"BASE_URL_DATING="+urlDating1,
				"BASE_URL_DATING_2="+urlDating2,
				"HIVE_WEBHOOK_SECRET="+e2eHiveSecret,
				"ADMIN_TOKEN="+e2eAdminToken,
				"SIO_TRANSPORTS="+mode,
				"JWT_SECRET="+e2eJWTSecret,
				"NO_COLOR=1",
			)
			out := &lineLogger{t: t}
			cmd.Stdout = out
			cmd.Stderr = out
			// node --test runs each file in a child process; do not wait
			// for stragglers holding the output pipe once node is gone.
			cmd.WaitDelay = 10 * time.Second
			start := time.Now()
			err := cmd.Run()
			out.flush()
			if ctx.Err() != nil {
				t.Fatalf("node --test did not finish within 4 minutes")
			}
			if err != nil {
				t.Fatalf("node --test (SIO_TRANSPORTS=%s) failed after %s: %v", mode, time.Since(start).Round(time.Millisecond), err)
			}
			t.Logf("node --test (SIO_TRANSPORTS=%s) passed in %s", mode, time.Since(start).Round(time.Millisecond))
		})
	}
}

// startE2EServer starts one in-process server on a loopback port with the
// given environment and returns its base URL. It stops when the test ends.
func startE2EServer(t *testing.T, logs *testLog, name string, env map[string]string) string {
	t.Helper()
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("server %s: config: %v", name, err)
	}
	log := newLogger(logs.prefixed(name), cfg.LogLevel)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("server %s: %v", name, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		a.close()
		t.Fatalf("server %s: listen: %v", name, err)
	}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		a.close()
		t.Fatalf("server %s stopped at start: %v", name, err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("server %s did not start within 10 s", name)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server %s: shutdown: %v", name, err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("server %s did not shut down within 15 s", name)
		}
		a.close()
	})
	return "http://" + addr
}

// testLog forwards server logs to t.Log until stop is called, after which
// late lines (from goroutines still winding down) are dropped rather than
// logged to a finished test.
type testLog struct {
	t       *testing.T
	mu      sync.Mutex
	stopped bool
}

func (l *testLog) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
}

func (l *testLog) prefixed(name string) *prefixWriter { return &prefixWriter{log: l, name: name} }

type prefixWriter struct {
	log  *testLog
	name string
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.log.mu.Lock()
	defer w.log.mu.Unlock()
	if !w.log.stopped {
		w.log.t.Logf("[server %s] %s", w.name, bytes.TrimRight(p, "\n"))
	}
	return len(p), nil
}

// lineLogger passes a child process's output to t.Log line by line.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.t.Log(strings.TrimRight(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.t.Log(string(l.buf))
		l.buf = nil
	}
}

// unavailableFunc returns how a test reports a missing program or server:
// a skip, or a failure when RENDEZVOUS_REQUIRE_INTEGRATION=1.
func unavailableFunc(t *testing.T) func(format string, args ...any) {
	return func(format string, args ...any) {
		t.Helper()
		if testenv.RequireIntegration() {
			t.Fatalf(format+" (RENDEZVOUS_REQUIRE_INTEGRATION=1)", args...)
		}
		t.Skipf(format, args...)
	}
}

// nodeSuite returns the node binary and the absolute path of ../../e2e
// for a Node-driven suite (named in messages) that needs the npm package
// pkg installed there; without them the test skips, or fails when
// RENDEZVOUS_REQUIRE_INTEGRATION=1.
func nodeSuite(t *testing.T, suite, pkg string) (node, dir string) {
	t.Helper()
	unavailable := unavailableFunc(t)
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("node is not on PATH: %s needs Node.js 20 or later", suite)
	}
	dir, err = filepath.Abs(filepath.Join("..", "..", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
		unavailable("%s is not installed: run `npm ci` in %s", pkg, dir)
	}
	return node, dir
}
