package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
)

// processRSS reads the resident set size of a process, in bytes, from
// /proc; it skips the test where /proc is not there.
func processRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS for pid %d", pid)
	return 0
}

// heapInUse reads HeapInuse of the server's Go runtime, after a garbage
// collection, from the pprof heap profile on its debug listener.
func heapInUse(t *testing.T, debugAddr string) int64 {
	t.Helper()
	a := request(t, "GET", "http://"+debugAddr+"/debug/pprof/heap?debug=1&gc=1", "")
	if a.status != 200 {
		t.Fatalf("heap profile: %d", a.status)
	}
	for _, line := range strings.Split(a.body, "\n") {
		if v, ok := strings.CutPrefix(line, "# HeapInuse = "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatalf("HeapInuse %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("no HeapInuse in the heap profile")
	return 0
}

// rawStatus sends one GET with an extra header of size bytes on a fresh
// connection and returns the status code of the answer.
func rawStatus(t *testing.T, base string, size int) int {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nConnection: close\r\n\r\n", strings.Repeat("h", size)); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the answer to a %d-byte header: %v", size, err)
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		t.Fatalf("status line %q", line)
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("status line %q", line)
	}
	return code
}

// Unauthenticated WebSockets hold little memory and not for long: the
// server process refuses request headers beyond HTTP_MAX_HEADER_BYTES
// (431), answers a CONNECT to the unregistered root namespace with
// "Invalid namespace", and closes every Engine.IO session that joined no
// namespace once SOCKETIO_CONNECT_TIMEOUT_MS has passed. The server's RSS
// with 400 such sessions (about 8 KiB of headers each) is logged, as a
// figure, never asserted.
func TestProcessIdleUnauthenticatedSockets(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	srv := startProcess(t, "idle", map[string]string{
		"THROTTLE_LIMIT":              "0",
		"SOCKET_CONNECT_RATE":         "0", // 400 handshakes from one address
		"SOCKETIO_CONNECT_TIMEOUT_MS": "15000",
		"DEBUG_ADDR":                  "127.0.0.1:0",
	})
	pid := srv.cmd.Process.Pid
	line, ok := srv.waitLog(30*time.Second, func(l map[string]any) bool { return l["msg"] == "debug listening (pprof)" })
	if !ok {
		t.Fatal("no debug listener")
	}
	debugAddr, _ := line["addr"].(string)

	if code := rawStatus(t, srv.base, 1024); code != 200 {
		t.Fatalf("a 1 KiB header: status %d, want 200", code)
	}
	if code := rawStatus(t, srv.base, 64<<10); code != 431 {
		t.Fatalf("a 64 KiB header: status %d, want 431", code)
	}

	header := map[string]string{
		"Cookie":     strings.Repeat("c", 4<<10),
		"User-Agent": strings.Repeat("u", 2<<10),
		"X-Junk":     strings.Repeat("j", 2<<10),
	}
	const n = 400
	before, heapBefore := processRSS(t, pid), heapInUse(t, debugAddr)
	clients := make([]*siotest.Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	began := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := siotest.Dial(ctx, srv.base, header)
			if err != nil {
				errs[i] = err
				return
			}
			clients[i] = c
			p, err := c.Connect("/", nil, 30*time.Second)
			if err != nil {
				errs[i] = err
				return
			}
			if p.Type != 4 || !strings.Contains(string(p.Data), "Invalid namespace") {
				errs[i] = fmt.Errorf("CONNECT to /: packet type %d %s, want CONNECT_ERROR Invalid namespace", p.Type, p.Data)
			}
		}()
	}
	wg.Wait()
	connected := time.Since(began)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
	}
	with, heapWith := processRSS(t, pid), heapInUse(t, debugAddr)
	t.Logf("server RSS %.1f MiB before, %.1f MiB with %d idle unauthenticated WebSockets (%.1f KiB each; ~8 KiB of headers each; connected in %s)",
		float64(before)/(1<<20), float64(with)/(1<<20), n, float64(with-before)/n/1024, connected.Round(time.Millisecond))
	t.Logf("server heap in use after a GC: %.1f MiB before, %.1f MiB with them (%.1f KiB each)",
		float64(heapBefore)/(1<<20), float64(heapWith)/(1<<20), float64(heapWith-heapBefore)/n/1024)

	// Every session is closed by the server (the connect timeout), not by
	// the client: wait for each with a generous deadline.
	for i, c := range clients {
		if _, err := c.Wait(60*time.Second, func(siotest.Packet) bool { return false }); err == siotest.ErrTimeout {
			t.Fatalf("session %d still open 60 s after the last socket connected (connect timeout 15 s)", i)
		}
	}
	t.Logf("all %d sessions closed by the server %s after the first connected; RSS then %.1f MiB",
		n, time.Since(began).Round(time.Millisecond), float64(processRSS(t, pid))/(1<<20))
}
