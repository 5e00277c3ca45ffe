package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
)

// TestDeployBehindNginx runs the deployment recipe of deploy/README.md:
// deploy/nginx/rendezvous.conf (only its upstream addresses and its listen
// port changed) in front of three server processes on one Redis prefix and
// one PostgreSQL schema. The official socket.io-client with its default
// options (long-polling, then the upgrade, and reconnection) plays
// e2e/deploy/scenario.js through nginx: rooms and a dating round across
// instances, then a call during which one instance stops (SIGTERM) and
// another is killed (SIGKILL). The clients reconnect through nginx by
// themselves, the call still ends at its time and its choice window still
// closes, every wallet shows one debit per join, and no instance logs an
// error.
//
// nginx's sticky hash pins a client address to an instance, so each client
// connects from a loopback address of its own (127.0.0.x) that the test
// picked, by probing, to reach a chosen instance.
//
// It needs nginx and node on PATH, `npm ci` run in e2e/, Redis and
// PostgreSQL; without them it skips, or fails when
// RENDEZVOUS_REQUIRE_INTEGRATION=1.
func TestDeployBehindNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	unavailable := unavailableFunc(t)
	nginx := testenv.LookPath(t, "nginx")
	node, e2eDir := nodeSuite(t, "the deployment scenario", "socket.io-client")
	if ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.2:0"); err != nil {
		unavailable("the loopback address 127.0.0.2 is not available (%v): the test pins clients by source address", err)
	} else {
		_ = ln.Close()
	}
	conf, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx", "rendezvous.conf"))
	if err != nil {
		t.Fatal(err)
	}

	_, prefix := testenv.Redis(t)
	const bonus, callSeconds = 3, 12
	vars := map[string]string{
		"REDIS_URL": testenv.RedisURL(t), "REDIS_PREFIX": prefix,
		"DATABASE_URL": schemaURL(t),
		"JWT_SECRET":   "deploy-secret-deploy-secret-deploy-secret",
		// nginx connects from 127.0.0.1 and writes X-Forwarded-For.
		"TRUST_PROXY": "true", "TRUSTED_PROXIES": "127.0.0.1/32",
		"SIGNUP_BONUS_TOKENS":      strconv.Itoa(bonus),
		"SESSION_DURATION_SECONDS": strconv.Itoa(callSeconds),
		"OPTIN_WINDOW_SECONDS":     "4",
		"QUEUE_TICK_MS":            "100",
		"THROTTLE_LIMIT":           "100000",
		"SHUTDOWN_TIMEOUT_MS":      "5000",
	}
	var instances []*process
	for i := range 3 {
		instances = append(instances, startProcess(t, fmt.Sprintf("deploy-%d", i+1), vars))
	}
	proxy := startDeployNginx(t, nginx, string(conf), instances)

	// ADDR_n: a loopback address that nginx sends to instance n.
	addrs := make([]string, 3)
	for host := 2; host < 255 && (addrs[0] == "" || addrs[1] == "" || addrs[2] == ""); host++ {
		a := fmt.Sprintf("127.0.0.%d", host)
		if n := owner(t, proxy, a, instances); addrs[n-1] == "" {
			addrs[n-1] = a
		}
	}
	if addrs[0] == "" || addrs[1] == "" || addrs[2] == "" {
		t.Fatalf("no loopback addresses that nginx sends to each of the three instances: %q", addrs)
	}
	t.Logf("client addresses pinned to instances 1, 2, 3: %s", strings.Join(addrs, ", "))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("deploy", "scenario.js"))
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(),
		"BASE_URL="+proxy,
		"ADDR_1="+addrs[0], "ADDR_2="+addrs[1], "ADDR_3="+addrs[2],
		"SIGNUP_BONUS_TOKENS="+strconv.Itoa(bonus),
		"SESSION_DURATION_SECONDS="+strconv.Itoa(callSeconds),
		"NO_COLOR=1",
	)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lineLogger{t: t}
	cmd.Stderr = stderr
	cmd.WaitDelay = 10 * time.Second
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var passed bool
	var failure string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t.Logf("[scenario] %s", line)
		verb, arg, _ := strings.Cut(line, " ")
		switch {
		case line == "PASS":
			passed = true
		case verb == "FAIL":
			failure = arg
		case verb == "STOP" || verb == "KILL":
			n, err := strconv.Atoi(arg)
			if err != nil || n < 1 || n > len(instances) {
				t.Fatalf("the scenario asks for %q", line)
			}
			p := instances[n-1]
			if verb == "STOP" {
				stopGracefully(t, p)
			} else {
				if err := p.cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				<-p.exited
			}
			// Where every client address lands now, the stopped
			// instances aside.
			answer := "DONE " + line
			for _, a := range addrs {
				answer += " " + strconv.Itoa(owner(t, proxy, a, instances))
			}
			t.Logf("[test] %s", answer)
			if _, err := io.WriteString(stdin, answer+"\n"); err != nil {
				t.Fatalf("answering the scenario: %v", err)
			}
		}
	}
	err = cmd.Wait()
	stderr.flush()
	took := time.Since(began).Round(time.Millisecond)
	if ctx.Err() != nil {
		t.Fatalf("the scenario did not finish within 4 minutes")
	}
	if err != nil || !passed {
		t.Fatalf("the scenario failed after %s (%v): %s", took, err, failure)
	}
	t.Logf("the scenario passed in %s", took)
	for _, p := range instances {
		if line, ok := p.waitLog(0, func(l map[string]any) bool { return l["level"] == "ERROR" }); ok {
			t.Errorf("server %s logged an error: %v", p.name, line)
		}
	}
}

// stopGracefully sends SIGTERM to p and waits for it to exit 0.
func stopGracefully(t *testing.T, p *process) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, ok := p.wait(30 * time.Second)
	if !ok {
		t.Fatalf("server %s did not exit within 30 s of SIGTERM", p.name)
	}
	if code != 0 {
		t.Fatalf("server %s exited %d after SIGTERM, want 0", p.name, code)
	}
}

// owner opens an Engine.IO long-polling session through nginx from the
// loopback address addr, finds the instance that holds it (the others
// answer "Session ID unknown"), closes it there, and returns that
// instance's number (from 1). Instances that exited are not asked.
func owner(t *testing.T, proxy, addr string, instances []*process) int {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 10 * time.Second}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}}
	res, err := client.Get(proxy + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatalf("polling handshake from %s through nginx: %v", addr, err)
	}
	b, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	var open struct{ SID string }
	if res.StatusCode != 200 || len(b) == 0 || b[0] != '0' || json.Unmarshal(b[1:], &open) != nil || open.SID == "" {
		t.Fatalf("polling handshake from %s through nginx: %s %q", addr, res.Status, b)
	}
	found := 0
	for i, p := range instances {
		select {
		case <-p.exited:
			continue
		default:
		}
		res, err := processClient.Post(p.base+"/socket.io/?EIO=4&transport=polling&sid="+open.SID, "text/plain;charset=UTF-8", strings.NewReader("1")) // close
		if err != nil {
			t.Fatalf("closing session %s at instance %d: %v", open.SID, i+1, err)
		}
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		switch {
		case res.StatusCode == 200 && found == 0:
			found = i + 1
		case res.StatusCode == 200:
			t.Fatalf("session %s is known to instances %d and %d", open.SID, found, i+1)
		case res.StatusCode != 400 || !strings.Contains(string(b), "Session ID unknown"):
			t.Fatalf("closing session %s at instance %d: %s %s", open.SID, i+1, res.Status, b)
		}
	}
	if found == 0 {
		t.Fatalf("no running instance holds the session %s opened through nginx from %s", open.SID, addr)
	}
	return found
}

// startDeployNginx runs nginx with conf (deploy/nginx/rendezvous.conf, an
// http-context file) in front of instances on a free loopback port and
// returns its base URL once it proxies to them.
func startDeployNginx(t *testing.T, nginx, conf string, instances []*process) string {
	t.Helper()
	// The file names the instances 127.0.0.1:3001 to :3003 and listens on
	// port 80.
	for i, p := range instances {
		from := fmt.Sprintf("server 127.0.0.1:%d;", 3001+i)
		if strings.Count(conf, from) != 1 {
			t.Fatalf("deploy/nginx/rendezvous.conf has no single %q line", from)
		}
		conf = strings.Replace(conf, from, "server "+strings.TrimPrefix(p.base, "http://")+";", 1)
	}
	if strings.Count(conf, "listen 80;") != 1 {
		t.Fatal(`deploy/nginx/rendezvous.conf has no single "listen 80;" line`)
	}
	dir := t.TempDir()
	var lastErr error
	for range 5 { // another process may take the free port first
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		main := testenv.NginxMainConf(t, dir, strings.Replace(conf, "listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", port), 1))
		if out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", main).CombinedOutput(); err != nil {
			t.Fatalf("nginx -t rejects deploy/nginx/rendezvous.conf: %v\n%s", err, out)
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		exited := testenv.RunNginx(t, nginx, dir, main)
		if lastErr = waitNginxProxying(base, exited); lastErr == nil {
			return base
		}
	}
	logs, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	t.Fatalf("nginx did not proxy: %v\n%s", lastErr, logs)
	return ""
}

// waitNginxProxying waits until base answers /healthz through nginx.
func waitNginxProxying(base string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := client.Get(base + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if res.StatusCode == 200 && strings.Contains(string(b), `"ok"`) {
				return nil
			}
			err = fmt.Errorf("GET /healthz through nginx: %s %q", res.Status, b)
		}
		select {
		case <-exited:
			return fmt.Errorf("nginx exited (%v)", err)
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond) // poll: nginx is starting
	}
}
