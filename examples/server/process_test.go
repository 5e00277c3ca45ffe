package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
)

// The tests in this file run the server binary as a real process, for the
// behaviours that only a process shows: signals, exit codes, sockets cut
// by the kernel-facing timeouts, a Redis process stopped with SIGSTOP.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// serverBinary builds the server once per test binary.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go tool is not on PATH: %w", err)
			return
		}
		if buildDir, err = os.MkdirTemp("", "rendezvous-server-"); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(buildDir, "server")
		cmd := exec.Command(goTool, "build", "-o", binPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a started server process whose JSON log lines the test can
// wait for.
type process struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port

	mu    sync.Mutex
	lines []map[string]any
	more  chan struct{} // closed and replaced whenever a line arrives

	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// startProcess starts the server binary with vars (and PORT=0) and waits
// until it listens.
func startProcess(t *testing.T, name string, vars map[string]string) *process {
	t.Helper()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PORT=0"}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	p := &process{t: t, name: name, more: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(serverBinary(t))
	p.cmd.Env = env
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.readLogs(stderr)
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	line, ok := p.waitLog(30*time.Second, func(l map[string]any) bool { return l["msg"] == "listening" })
	if !ok {
		t.Fatalf("server %s did not listen within 30 s", name)
	}
	addr, _ := line["addr"].(string)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("server %s listens on %q: %v", name, addr, err)
	}
	p.base = "http://127.0.0.1:" + port
	return p
}

func (p *process) readLogs(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		text := sc.Text()
		p.t.Logf("[server %s] %s", p.name, text)
		var line map[string]any
		if json.Unmarshal([]byte(text), &line) != nil {
			line = map[string]any{"text": text}
		}
		p.mu.Lock()
		p.lines = append(p.lines, line)
		close(p.more)
		p.more = make(chan struct{})
		p.mu.Unlock()
	}
	p.err = p.cmd.Wait()
	close(p.exited)
}

// waitLog waits for a log line that match accepts.
func (p *process) waitLog(timeout time.Duration, match func(map[string]any) bool) (map[string]any, bool) {
	deadline := time.After(timeout)
	seen := 0
	for {
		p.mu.Lock()
		lines, more := p.lines[seen:], p.more
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if match(l) {
				return l, true
			}
		}
		select {
		case <-more:
		case <-p.exited:
			p.mu.Lock()
			rest := p.lines[seen:]
			p.mu.Unlock()
			for _, l := range rest {
				if match(l) {
					return l, true
				}
			}
			return nil, false
		case <-deadline:
			return nil, false
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(timeout time.Duration) (int, bool) {
	select {
	case <-p.exited:
	case <-time.After(timeout):
		return 0, false
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode(), true
	}
	if p.err != nil {
		p.t.Fatalf("server %s: %v", p.name, p.err)
	}
	return 0, true
}

// redisServer is a redis-server process of the test's own, which the test
// may stop (SIGSTOP), resume and kill.
type redisServer struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testenv.RequireIntegration() {
			t.Fatal("redis-server is not on PATH (RENDEZVOUS_REQUIRE_INTEGRATION=1)")
		}
		t.Skip("redis-server is not on PATH")
	}
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_, port, _ := net.SplitHostPort(addr)
		_ = ln.Close()
		r := &redisServer{addr: addr, done: make(chan struct{})}
		r.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		var out bytes.Buffer
		r.cmd.Stdout, r.cmd.Stderr = &out, &out
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = r.cmd.Wait(); close(r.done) }()
		if r.answers(10 * time.Second) {
			t.Cleanup(r.kill)
			return r
		}
		r.kill()
		if attempt == 2 {
			t.Fatalf("redis-server on %s did not answer: %s", addr, out.String())
		}
	}
}

// answers waits until Redis answers PING.
func (r *redisServer) answers(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", r.addr, time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("PING\r\n"))
			reply, _ := bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
			if reply == "+PONG\r\n" {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond) // poll: the server is starting
	}
	return false
}

func (r *redisServer) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("redis-server: signal %v: %v", sig, err)
	}
}

func (r *redisServer) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGCONT)
	_ = r.cmd.Process.Kill()
	<-r.done
}

// answer is one HTTP response, timed.
type answer struct {
	status int
	code   string
	body   string
	took   time.Duration
}

var processClient = &http.Client{Timeout: 30 * time.Second}

func request(t *testing.T, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	began := time.Now()
	res, err := processClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v (after %s)", method, url, err, time.Since(began).Round(time.Millisecond))
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	a := answer{status: res.StatusCode, body: string(b), took: time.Since(began)}
	var e struct{ Code string }
	if json.Unmarshal(b, &e) == nil {
		a.code = e.Code
	}
	return a
}

// A stopped (SIGSTOP) and then a dead Redis make requests fail with 503
// STORE_UNAVAILABLE, at most a command timeout per Redis call and then at
// once (the breaker); /readyz answers within its own deadline; when Redis
// resumes the server recovers by itself.
func TestProcessRedisOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	redis := startRedisServer(t)
	redisURL := "redis://" + redis.addr + "/0"
	srv := startProcess(t, "redis-outage", map[string]string{
		"REDIS_URL": redisURL, "REDIS_COMMAND_TIMEOUT": "1000", "REDIS_BREAKER_FAILURES": "5", "REDIS_BREAKER_COOLDOWN_MS": "1000",
		"THROTTLE_LIMIT": "1000", // the limiter still runs, without answering 429 to this many requests
	})
	// A second instance with a command timeout far beyond the 2 s of
	// /readyz and no breaker: its readiness check must still end at 2 s.
	slow := startProcess(t, "redis-outage-slow", map[string]string{
		"REDIS_URL": redisURL, "REDIS_COMMAND_TIMEOUT": "120000", "REDIS_BREAKER_FAILURES": "0",
	})

	created := request(t, "POST", srv.base+"/rooms", `{"displayName":"Host"}`)
	var room struct{ RoomCode string }
	if created.status != 201 || json.Unmarshal([]byte(created.body), &room) != nil {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	roomURL := srv.base + "/rooms/" + room.RoomCode
	if a := request(t, "GET", roomURL, ""); a.status != 200 {
		t.Fatalf("read: %d %s", a.status, a.body)
	}

	redis.signal(t, syscall.SIGSTOP)
	var took []string
	for i := range 6 {
		a := request(t, "GET", roomURL, "")
		took = append(took, a.took.Round(time.Millisecond).String())
		if a.status != 503 || a.code != "STORE_UNAVAILABLE" {
			t.Fatalf("GET %d with Redis stopped: %d %s, want 503 STORE_UNAVAILABLE", i+1, a.status, a.body)
		}
	}
	t.Logf("GET /rooms/{code} with Redis stopped (SIGSTOP), command timeout 1 s: %s", strings.Join(took, ", "))
	if _, ok := srv.waitLog(30*time.Second, func(l map[string]any) bool {
		return l["level"] == "WARN" && strings.HasPrefix(fmt.Sprint(l["msg"]), "redis: circuit breaker open")
	}); !ok {
		t.Fatal("the breaker did not open")
	}
	for _, p := range []*process{srv, slow} {
		a := request(t, "GET", p.base+"/readyz", "")
		t.Logf("GET /readyz (%s) with Redis stopped: %d in %s", p.name, a.status, a.took.Round(time.Millisecond))
		if a.status != 503 || a.code != "NOT_READY" {
			t.Fatalf("readyz (%s) with Redis stopped: %d %s, want 503 NOT_READY", p.name, a.status, a.body)
		}
	}

	redis.signal(t, syscall.SIGCONT)
	began := time.Now()
	for {
		a := request(t, "GET", roomURL, "")
		if a.status == 200 {
			t.Logf("recovered %s after SIGCONT", time.Since(began).Round(time.Millisecond))
			break
		}
		if a.status != 503 || a.code != "STORE_UNAVAILABLE" {
			t.Fatalf("GET while Redis resumes: %d %s", a.status, a.body)
		}
		if time.Since(began) > 30*time.Second {
			t.Fatal("the server did not recover within 30 s of SIGCONT")
		}
		time.Sleep(50 * time.Millisecond) // poll: waiting for the breaker's probe
	}
	if a := request(t, "GET", srv.base+"/readyz", ""); a.status != 200 {
		t.Fatalf("readyz after recovery: %d %s", a.status, a.body)
	}

	redis.kill()
	took = took[:0]
	for i := range 6 {
		a := request(t, "GET", roomURL, "")
		took = append(took, a.took.Round(time.Millisecond).String())
		if a.status != 503 || a.code != "STORE_UNAVAILABLE" {
			t.Fatalf("GET %d with Redis gone: %d %s, want 503 STORE_UNAVAILABLE", i+1, a.status, a.body)
		}
	}
	t.Logf("GET /rooms/{code} with Redis refusing connections: %s", strings.Join(took, ", "))
}

// slowBody opens a connection and sends a POST that announces a body it
// never finishes.
func slowBody(t *testing.T, base string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_, err = fmt.Fprintf(c, "POST /rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"display")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closedByServer reads c until the server closes it, and reports whether
// it did within a generous wait.
func closedByServer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// Clients that stop sending their body are cut after HTTP_READ_TIMEOUT_MS,
// and do not keep others from being served.
func TestProcessSlowBodyIsCut(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	srv := startProcess(t, "slow-body", map[string]string{"HTTP_READ_TIMEOUT_MS": "500", "THROTTLE_LIMIT": "0"})
	var conns []net.Conn
	for range 20 {
		conns = append(conns, slowBody(t, srv.base))
	}
	if a := request(t, "GET", srv.base+"/healthz", ""); a.status != 200 {
		t.Fatalf("healthz beside slow clients: %d %s", a.status, a.body)
	}
	began := time.Now()
	for i, c := range conns {
		if !closedByServer(c) {
			t.Fatalf("slow client %d still open after 30 s", i+1)
		}
	}
	t.Logf("20 slow-body clients cut within %s of the check (read timeout 500 ms)", time.Since(began).Round(time.Millisecond))
}

// SIGTERM with a slow client still sending its body: the shutdown cuts it
// at SHUTDOWN_TIMEOUT_MS, says so at WARN, and the process exits 0.
func TestProcessShutdownCutsSlowClients(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	srv := startProcess(t, "shutdown", map[string]string{"SHUTDOWN_TIMEOUT_MS": "1000", "HTTP_READ_TIMEOUT_MS": "600000"})
	c := slowBody(t, srv.base)
	if a := request(t, "GET", srv.base+"/healthz", ""); a.status != 200 {
		t.Fatalf("healthz: %d", a.status)
	}
	began := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, ok := srv.wait(30 * time.Second)
	if !ok {
		t.Fatal("the server did not exit within 30 s of SIGTERM")
	}
	t.Logf("exit %d %s after SIGTERM (shutdown timeout 1 s)", code, time.Since(began).Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	line, ok := srv.waitLog(0, func(l map[string]any) bool {
		return l["level"] == "WARN" && strings.Contains(fmt.Sprint(l["msg"]), "closing the HTTP connections still open")
	})
	if !ok || line["connections"] != float64(1) {
		t.Fatalf("no WARN naming the 1 connection cut: %v", line)
	}
	if !closedByServer(c) {
		t.Fatal("the slow client is still open")
	}
}
