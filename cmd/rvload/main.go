// Command rvload measures a running rendezvous server (examples/server)
// for the figures of BENCHMARKS.md. It only talks to loopback addresses.
// scripts/bench.sh starts the servers with the settings each phase needs
// and runs every phase; run a phase by hand as
//
//	rvload idle    -url http://127.0.0.1:45000 -pid PID -debug http://127.0.0.1:45001 -points 2000,5000,10000,18000
//	rvload connect -url http://127.0.0.1:45000 -pid PID -rooms 100 -members 100 -parallel 64 -big 1000
//	rvload room    -url http://127.0.0.1:45000
//
// idle: creates rooms of -members members over REST, then connects one
// Socket.IO WebSocket per member to /rooms, room by room, up to each of
// -points sockets. At 0 sockets and at each point it waits until the
// connect events have been delivered (no event for -quiet) and until every
// open socket has answered a heartbeat since the point was reached, then
// reads the server's resident memory (VmRSS of -pid), its Go heap and its
// goroutine count (from the pprof listener at -debug). It prints the
// memory curve and, per point, the resident memory and the goroutines per
// socket above the 0-socket base.
//
// connect: creates -rooms rooms of -members, then times the connection of
// all their members (-parallel connects in flight, each one dial, WebSocket
// upgrade, Engine.IO handshake and Socket.IO CONNECT with the member's
// token, until the CONNECT is acknowledged). Once the connect events are
// delivered, the host of the first room toggles its lock -broadcasts times,
// -gap apart, and every member records when room:lock_toggled arrives
// (latency = arrival minus send, on this machine's clock). With -big > 0
// it then does the same for one room of -big members, the other sockets
// still open. With -pid it also reports the server's CPU time per connect
// and per broadcast (from /proc), which the machine's load changes much
// less than wall-clock figures.
//
// room: creates one room and prints its code (for wrk).
//
// The client is siotest.Lean: one goroutine and a 2 KiB read buffer per
// socket, no decoding beyond the event name, so that on a shared machine
// the client costs less than the server. The server must allow the load:
// THROTTLE_LIMIT=0 or high enough, ROOM_MAX_USERS >= the room sizes,
// SOCKET_CONNECT_RATE=0 and SOCKET_EVENT_RATE=-1 (the host sends
// broadcasts back to back). A process may hold at most `ulimit -n` open
// files: the client holds one per socket.
//
// Lines starting with "FIGURE " are the measured figures, each with its
// target and OK or MISSED when the issue sets one.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "idle":
		err = runIdle(args)
	case "connect":
		err = runConnect(args)
	case "room":
		err = runRoom(args)
	default:
		usage()
	}
	stopProfile()
	if err != nil {
		fatal(err)
	}
}

// stopProfile ends the -cpuprofile profile, if any.
var stopProfile = func() {}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: rvload idle|connect|room [flags]   (rvload CMD -h for the flags)")
	os.Exit(2)
}

// common are the flags every phase takes.
type common struct {
	base     string
	parallel int
	quiet    time.Duration
	source   string

	cpuprofile string
}

func (c *common) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.base, "url", "http://127.0.0.1:3000", "server base URL (loopback only)")
	fs.IntVar(&c.parallel, "parallel", 64, "connects and REST requests in flight")
	fs.DurationVar(&c.quiet, "quiet", time.Second, "the connect events are delivered once no socket received one for this long")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write the client's CPU profile to this file")
	fs.StringVar(&c.source, "source", "", "local IP address to connect from, for example 127.0.0.2 (default: chosen by the system)")
}

func parse(fs *flag.FlagSet, c *common, args []string) {
	c.flags(fs)
	_ = fs.Parse(args)
	if err := checkLoopback(c.base); err != nil {
		fatal(err)
	}
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
	}
	if c.source != "" {
		ip := net.ParseIP(c.source)
		if ip == nil || !ip.IsLoopback() {
			fatal(fmt.Errorf("-source %q is not a loopback address", c.source))
		}
		dialer.LocalAddr = &net.TCPAddr{IP: ip}
	}
}

func runRoom(args []string) error {
	var c common
	parse(flag.NewFlagSet("room", flag.ExitOnError), &c, args)
	t, err := post(c.base+"/rooms", `{"displayName":"wrk"}`)
	if err != nil {
		return err
	}
	fmt.Println(t.RoomCode)
	return nil
}

// ---- idle: the memory curve ----

func runIdle(args []string) error {
	var c common
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	pid := fs.Int("pid", 0, "server process id, to read its resident memory from /proc (required)")
	debug := fs.String("debug", "", "server pprof base URL (DEBUG_ADDR), for its goroutines and heap")
	members := fs.Int("members", 100, "members per room")
	points := fs.String("points", "2000,5000,10000,18000", "socket counts at which to measure (ascending)")
	ping := fs.Duration("ping-interval", 25*time.Second, "the server's SOCKETIO_PING_INTERVAL_MS, to bound the wait for heartbeats")
	targetKiB := fs.Float64("target-kib", 4, "target resident memory per idle socket, KiB")
	targetAt := fs.String("target-at", "10000,18000", "points at which the memory and goroutine targets apply")
	parse(fs, &c, args)
	if *pid == 0 {
		return errors.New("idle: -pid is required")
	}
	var pts []int
	for _, s := range strings.Split(*points, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 || (len(pts) > 0 && n <= pts[len(pts)-1]) {
			return fmt.Errorf("idle: bad -points %q", *points)
		}
		pts = append(pts, n)
	}
	targeted := map[int]bool{}
	for _, s := range strings.Split(*targetAt, ",") {
		n, _ := strconv.Atoi(strings.TrimSpace(s))
		targeted[n] = true
	}
	total := pts[len(pts)-1]
	nRooms := (total + *members - 1) / *members
	fmt.Printf("idle: %d rooms of %d members, points %v\n", nRooms, *members, pts)
	t0 := time.Now()
	rooms, err := makeRooms(c.base, nRooms, *members, c.parallel)
	if err != nil {
		return err
	}
	fmt.Printf("created %d rooms and %d members in %s\n", nRooms, nRooms**members, since(t0))
	var all []*member
	for _, r := range rooms {
		all = append(all, r...)
	}
	all = all[:total]
	var counter eventCounter

	type sample struct {
		sockets              int
		rss, heap, stack     int64
		goroutines           int
		heartbeatsConfirmed  bool
		sinceReached, pinged time.Duration
	}
	measure := func(open []*member) sample {
		t0 := time.Now()
		drain(&counter, c.quiet)
		confirmed := len(open) == 0 || awaitPing(open, 3**ping+30*time.Second)
		s := sample{sockets: len(open), heartbeatsConfirmed: confirmed, pinged: time.Since(t0)}
		s.rss = rss(*pid)
		if *debug != "" {
			s.goroutines = goroutines(*debug)
			s.heap, s.stack = heap(*debug)
		}
		return s
	}
	var curve []sample
	curve = append(curve, measure(nil))
	fmt.Printf("0 sockets: RSS %.1f MiB, heap in use %.1f MiB, goroutines %d\n", mib(curve[0].rss), mib(curve[0].heap), curve[0].goroutines)
	done := 0
	for _, p := range pts {
		t0 := time.Now()
		if err := connectAll(c.base, all[done:p], c.parallel, &counter, nil); err != nil {
			return err
		}
		fmt.Printf("connected %d more sockets (%d open) in %s\n", p-done, p, since(t0))
		done = p
		s := measure(all[:p])
		curve = append(curve, s)
		b := curve[0]
		per := float64(s.rss-b.rss) / float64(p) / 1024
		hb := "heartbeat answered by every socket"
		if !s.heartbeatsConfirmed {
			hb = "HEARTBEAT NOT CONFIRMED on every socket"
		}
		fmt.Printf("%d sockets: RSS %.1f MiB, heap in use %.1f MiB, stacks %.1f MiB, goroutines %d (%s, %s after connecting)\n",
			p, mib(s.rss), mib(s.heap), mib(s.stack), s.goroutines, hb, s.pinged.Round(100*time.Millisecond))
		if targeted[p] {
			figure(fmt.Sprintf("idle RSS per socket @%d", p), fmt.Sprintf("%.2f KiB", per), fmt.Sprintf("≤ %g KiB", *targetKiB), per <= *targetKiB)
			if *debug != "" {
				g := float64(s.goroutines-b.goroutines) / float64(p)
				figure(fmt.Sprintf("goroutines per idle socket @%d", p), fmt.Sprintf("%.3f", g), "0", g < 0.01)
			}
			figure(fmt.Sprintf("heartbeats answered by every socket @%d", p), fmt.Sprintf("%t", s.heartbeatsConfirmed), "true", s.heartbeatsConfirmed)
		} else {
			figure(fmt.Sprintf("idle RSS per socket @%d", p), fmt.Sprintf("%.2f KiB", per), "", true)
		}
	}
	var line strings.Builder
	for _, s := range curve {
		fmt.Fprintf(&line, " %d:%.1f", s.sockets, mib(s.rss))
	}
	figure("memory curve (sockets:RSS MiB)", strings.TrimSpace(line.String()), "", true)
	line.Reset()
	for _, s := range curve {
		fmt.Fprintf(&line, " %d:%.1f", s.sockets, mib(s.heap))
	}
	if *debug != "" {
		figure("memory curve (sockets:Go heap in use MiB)", strings.TrimSpace(line.String()), "", true)
		line.Reset()
		for _, s := range curve {
			fmt.Fprintf(&line, " %d:%d", s.sockets, s.goroutines)
		}
		figure("goroutine curve (sockets:goroutines)", strings.TrimSpace(line.String()), "", true)
	}
	closeAll(all)
	return nil
}

// awaitPing waits until every socket of ms has answered an Engine.IO ping
// since the call, and reports whether all did before timeout.
func awaitPing(ms []*member, timeout time.Duration) bool {
	base := make([]int64, len(ms))
	for i, m := range ms {
		base[i] = m.c.Pings()
	}
	deadline := time.Now().Add(timeout)
	for i := 0; ; {
		for i < len(ms) && ms[i].c.Pings() > base[i] {
			i++
		}
		if i == len(ms) {
			return true
		}
		if time.Now().After(deadline) {
			fmt.Printf("%d of %d sockets received no ping in %s\n", len(ms)-i, len(ms), timeout)
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// ---- connect and broadcast ----

func runConnect(args []string) error {
	var c common
	fs := flag.NewFlagSet("connect", flag.ExitOnError)
	nRooms := fs.Int("rooms", 100, "rooms to create")
	members := fs.Int("members", 100, "members per room, host included")
	broadcasts := fs.Int("broadcasts", 200, "broadcasts sent to the first room")
	gap := fs.Duration("gap", 20*time.Millisecond, "pause between broadcasts")
	big := fs.Int("big", 1000, "members of the large room whose broadcast latency is measured after (0: none)")
	bigBroadcasts := fs.Int("big-broadcasts", 50, "broadcasts sent to the large room")
	bigGap := fs.Duration("big-gap", 200*time.Millisecond, "pause between broadcasts to the large room (the same deliveries per second as -gap for 100 members)")
	pid := fs.Int("pid", 0, "server process id, to read the CPU time it spends (0: not read)")
	targetConnect := fs.Duration("target-connect", 3*time.Second, "target time to connect every socket")
	targetP99 := fs.Duration("target-p99", time.Millisecond, "target p99 of the broadcast to the first room")
	parse(fs, &c, args)
	total := *nRooms * *members
	fmt.Printf("connect: %d rooms of %d members (%d sockets), %d in flight\n", *nRooms, *members, total, c.parallel)
	t0 := time.Now()
	rooms, err := makeRooms(c.base, *nRooms, *members, c.parallel)
	if err != nil {
		return err
	}
	fmt.Printf("created %d rooms and %d members in %s\n", *nRooms, total, since(t0))
	var bigRoom []*member
	var bigErr error
	if *big > 0 {
		var r [][]*member
		if r, bigErr = makeRooms(c.base, 1, *big, c.parallel); bigErr == nil {
			bigRoom = r[0]
		}
	}
	var all []*member
	for _, r := range rooms {
		all = append(all, r...)
	}
	var counter eventCounter
	var lat []time.Duration
	srv0, cli0 := cpuTime(*pid), cpuTime(os.Getpid())
	t0 = time.Now()
	if err := connectAll(c.base, all, c.parallel, &counter, &lat); err != nil {
		return err
	}
	took := time.Since(t0)
	srv1, cli1 := cpuTime(*pid), cpuTime(os.Getpid())
	slices.Sort(lat)
	fmt.Printf("each connect (dial to CONNECT acknowledged): p50 %s, p99 %s, max %s; %.0f connects/s\n",
		ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]), float64(total)/took.Seconds())
	figure(fmt.Sprintf("connect %d sockets (%d rooms of %d, %d in flight)", total, *nRooms, *members, c.parallel),
		fmt.Sprintf("%.2f s", took.Seconds()), fmt.Sprintf("≤ %g s", targetConnect.Seconds()), took <= *targetConnect)
	t0 = time.Now()
	drain(&counter, c.quiet)
	srv2, cli2 := cpuTime(*pid), cpuTime(os.Getpid())
	fmt.Printf("connect events delivered %s after the last connect (%d events)\n", since(t0), counter.n.Load())
	if *pid > 0 {
		// CPU time depends much less on the machine's load than wall time.
		figure("server CPU time per connect, to the last CONNECT acknowledged", us((srv1-srv0)/time.Duration(total)), "", true)
		figure("server CPU time per connect, until its connect events are delivered", us((srv2-srv0)/time.Duration(total)), "", true)
		fmt.Printf("client CPU time per connect: %s to the last CONNECT acknowledged, %s with the connect events\n",
			us((cli1-cli0)/time.Duration(total)), us((cli2-cli0)/time.Duration(total)))
	}

	d := broadcast(rooms[0], *broadcasts, *gap, *pid)
	name := fmt.Sprintf("broadcast to a %d-member room", *members)
	figure(name+" p50", ms(d.p50), "", true)
	figure(name+" p99", ms(d.p99), "≤ "+ms(*targetP99), d.p99 <= *targetP99)
	figure(name+" max", ms(d.max), "", true)

	if *big > 0 {
		name := fmt.Sprintf("broadcast to a %d-member room", *big)
		if bigErr != nil {
			figure(name+" p99", "NOT MEASURED: "+bigErr.Error(), "reported", false)
		} else {
			t0 = time.Now()
			if err := connectAll(c.base, bigRoom, c.parallel, &counter, nil); err != nil {
				return err
			}
			fmt.Printf("connected the %d members of the large room in %s (%d sockets open)\n", *big, since(t0), total+*big)
			drain(&counter, c.quiet)
			d := broadcast(bigRoom, *bigBroadcasts, *bigGap, *pid)
			figure(name+" p50", ms(d.p50), "", true)
			figure(name+" p99", ms(d.p99), "reported", true)
			figure(name+" max", ms(d.max), "", true)
		}
	}
	closeAll(all)
	closeAll(bigRoom)
	return nil
}

type dist struct{ p50, p99, max time.Duration }

// broadcast has the host of room (its first member) toggle the lock n
// times, gap apart, and returns the distribution of the delivery latency
// over every member and broadcast.
func broadcast(room []*member, n int, gap time.Duration, pid int) dist {
	var arrived atomic.Int64
	for _, m := range room {
		m.mu.Lock()
		m.arrivals = m.arrivals[:0]
		m.arrived = &arrived
		m.mu.Unlock()
	}
	sent := make([]time.Time, n)
	cpu0 := cpuTime(pid)
	for k := range n {
		sent[k] = time.Now()
		if err := room[0].c.Emit("room:toggle_lock", ""); err != nil {
			fatal(err)
		}
		time.Sleep(gap)
	}
	want := int64(n * len(room))
	deadline := time.Now().Add(30 * time.Second)
	for arrived.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cpu := cpuTime(pid) - cpu0
	var all []time.Duration
	missing := 0
	for _, m := range room {
		m.mu.Lock()
		for k, at := range m.arrivals {
			if k < n {
				all = append(all, at.Sub(sent[k]))
			}
		}
		missing += max(0, n-len(m.arrivals))
		m.arrived = nil
		m.mu.Unlock()
	}
	if missing > 0 || len(all) == 0 {
		fatal(fmt.Errorf("broadcast to %d members: %d of %d deliveries missing after 30 s", len(room), missing, want))
	}
	slices.Sort(all)
	d := dist{pct(all, 50), pct(all, 99), all[len(all)-1]}
	fmt.Printf("broadcast to a %d-member room: %d deliveries, p50 %s, p99 %s, max %s\n", len(room), len(all), ms(d.p50), ms(d.p99), ms(d.max))
	if pid > 0 {
		fmt.Printf("server CPU time per broadcast to %d members: %s (%.2f µs per delivery; heartbeats of the open sockets included)\n",
			len(room), us(cpu/time.Duration(n)), float64(cpu)/float64(time.Microsecond)/float64(len(all)))
	}
	return d
}

// ---- members and sockets ----

type ticket struct {
	RoomCode string `json:"roomCode"`
	Token    string `json:"token"`
}

// member is one room member and, once connected, its socket.
type member struct {
	t ticket
	c *siotest.Lean

	mu       sync.Mutex
	arrivals []time.Time   // room:lock_toggled arrivals, while arrived != nil
	arrived  *atomic.Int64 // counts arrivals across a broadcast's room
}

var lockToggled = []byte("room:lock_toggled")

func (m *member) onEvent(counter *eventCounter) func(name []byte, at time.Time) {
	return func(name []byte, at time.Time) {
		counter.add()
		if !bytes.Equal(name, lockToggled) {
			return
		}
		m.mu.Lock()
		if m.arrived != nil {
			m.arrivals = append(m.arrivals, at)
			m.arrived.Add(1)
		}
		m.mu.Unlock()
	}
}

// eventCounter counts the events every socket received and when the last
// one arrived.
type eventCounter struct {
	n    atomic.Int64
	last atomic.Int64 // unix nanoseconds
}

func (c *eventCounter) add() {
	c.n.Add(1)
	c.last.Store(time.Now().UnixNano())
}

// drain waits until no socket received an event for quiet (at most two
// minutes).
func drain(c *eventCounter, quiet time.Duration) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		last := time.Unix(0, c.last.Load())
		if time.Since(last) >= quiet {
			return
		}
		time.Sleep(quiet / 4)
	}
	fmt.Println("connect events still arriving after 2 minutes")
}

// makeRooms creates n rooms of size members over REST.
func makeRooms(base string, n, size, parallel int) ([][]*member, error) {
	rooms := make([][]*member, n)
	var firstErr error
	var once sync.Once
	fail := func(err error) { once.Do(func() { firstErr = err }) }
	forEach(n, parallel, func(i int) {
		t, err := post(base+"/rooms", fmt.Sprintf(`{"displayName":"host-%d","maxUsers":%d}`, i, size))
		if err != nil {
			fail(err)
			return
		}
		rooms[i] = make([]*member, size)
		rooms[i][0] = &member{t: t}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	forEach(n*size, parallel, func(k int) {
		i, j := k/size, k%size
		if j == 0 {
			return
		}
		t, err := post(base+"/rooms/"+rooms[i][0].t.RoomCode+"/join", fmt.Sprintf(`{"displayName":"m-%d-%d"}`, i, j))
		if err != nil {
			fail(err)
			return
		}
		rooms[i][j] = &member{t: t}
	})
	httpClient.CloseIdleConnections()
	return rooms, firstErr
}

// connectAll connects every member's socket to /rooms, parallel at a
// time, and starts reading it. When lat is not nil it receives each
// connect's duration. A connect the server refuses as STORE_UNAVAILABLE
// (its store breaker is open: a loaded shared Redis) is tried again, up
// to three times a second apart, and counted; any other failure counts
// as failed.
func connectAll(base string, ms []*member, parallel int, counter *eventCounter, lat *[]time.Duration) error {
	var failed, retried atomic.Int64
	var firstErr atomic.Value
	var mu sync.Mutex
	forEach(len(ms), parallel, func(i int) {
		m := ms[i]
		auth, _ := json.Marshal(map[string]string{"token": m.t.Token})
		var c *siotest.Lean
		var err error
		var d time.Duration
		for try := 0; ; try++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			t0 := time.Now()
			c, err = leanDialer.Dial(ctx, base, "/rooms", auth)
			d = time.Since(t0)
			cancel()
			if err == nil || try == 3 || !errors.Is(err, siotest.ErrConnectRefused) || !strings.Contains(err.Error(), "STORE_UNAVAILABLE") {
				break
			}
			retried.Add(1)
			time.Sleep(time.Second)
		}
		if err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err)
			return
		}
		m.c = c
		if lat != nil {
			mu.Lock()
			*lat = append(*lat, d)
			mu.Unlock()
		}
		go func() { _ = c.Run(m.onEvent(counter)) }()
	})
	if n := retried.Load(); n > 0 {
		fmt.Printf("%d connects refused with STORE_UNAVAILABLE were tried again (the server's store breaker opened)\n", n)
	}
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d connects failed (raise ulimit -n?), the first: %v", n, len(ms), firstErr.Load())
	}
	return nil
}

func closeAll(ms []*member) {
	for _, m := range ms {
		if m.c != nil {
			m.c.Close()
		}
	}
}

// ---- helpers ----

// figure prints one measured figure with its target: OK or MISSED when
// there is a target.
func figure(name, value, target string, ok bool) {
	switch {
	case target == "":
		fmt.Printf("FIGURE %s: %s\n", name, value)
	case target == "reported":
		fmt.Printf("FIGURE %s: %s (target: reported)\n", name, value)
	case ok:
		fmt.Printf("FIGURE %s: %s (target %s)  OK\n", name, value, target)
	default:
		fmt.Printf("FIGURE %s: %s (target %s)  MISSED\n", name, value, target)
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

// us formats d in microseconds.
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

// cpuTime is the user and system CPU time pid has used (0 when pid is 0),
// from /proc/PID/stat, in clock ticks of 10 ms (USER_HZ on Linux).
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		fatal(err)
	}
	// The command name (field 2) may hold spaces: count from its ")".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		fatal(fmt.Errorf("short /proc/%d/stat", pid))
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

func forEach(n, parallel int, f func(i int)) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range max(1, parallel) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// dialer opens every TCP connection of the tool, from -source when given,
// with SO_REUSEADDR where the platform has it. The client closes first, so
// its ports stay in TIME-WAIT for a minute, and on loopback those ports
// are in the range a next server may want to listen on: connecting from
// another loopback address (127.0.0.2) keeps them off the servers'
// 127.0.0.1, and gives the client a port range of its own.
var dialer = &net.Dialer{Timeout: 30 * time.Second, Control: reuseAddr}

var leanDialer = siotest.LeanDialer{NetDial: dialer.DialContext}

var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, DialContext: dialer.DialContext}}

func post(u, body string) (ticket, error) {
	res, err := httpClient.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		return ticket{}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return ticket{}, fmt.Errorf("POST %s: %d %s", u, res.StatusCode, bytes.TrimSpace(b))
	}
	var t ticket
	if err := json.Unmarshal(b, &t); err != nil {
		return ticket{}, fmt.Errorf("POST %s: %w", u, err)
	}
	return t, nil
}

// rss reads VmRSS of pid in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	fatal(fmt.Errorf("no VmRSS for pid %d", pid))
	return 0
}

// goroutines reads the server's goroutine count from its pprof listener:
// the first line of /debug/pprof/goroutine?debug=1 is "goroutine profile:
// total N".
func goroutines(debug string) int {
	res, err := http.Get(strings.TrimRight(debug, "/") + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		fatal(err)
	}
	defer res.Body.Close()
	line, _ := bufio.NewReader(res.Body).ReadString('\n')
	v, ok := strings.CutPrefix(strings.TrimSpace(line), "goroutine profile: total ")
	n, err := strconv.Atoi(v)
	if !ok || err != nil {
		fatal(fmt.Errorf("unexpected goroutine profile line %q", line))
	}
	return n
}

// heap reads the server's HeapInuse and StackInuse from the runtime
// statistics at the end of /debug/pprof/heap?debug=1.
func heap(debug string) (inuse, stack int64) {
	res, err := http.Get(strings.TrimRight(debug, "/") + "/debug/pprof/heap?debug=1")
	if err != nil {
		fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if v, ok := strings.CutPrefix(l, "# HeapInuse = "); ok {
			inuse, _ = strconv.ParseInt(v, 10, 64)
		}
		if v, ok := strings.CutPrefix(l, "# Stack = "); ok {
			// "# Stack = inuse / sys"
			f, _, _ := strings.Cut(v, " ")
			stack, _ = strconv.ParseInt(f, 10, 64)
		}
	}
	return inuse, stack
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// checkLoopback refuses any target but this machine.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	switch h := u.Hostname(); {
	case h == "localhost", strings.HasPrefix(h, "127."), h == "::1":
		return nil
	}
	return fmt.Errorf("rvload only targets loopback addresses, not %q", u.Hostname())
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "rvload:", err)
	os.Exit(1)
}
