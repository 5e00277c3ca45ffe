// Command rvload measures a running rendezvous server (examples/server):
// resident memory per idle Socket.IO WebSocket connection joined to /rooms,
// and the latency of a broadcast to a full room. BENCHMARKS.md shows how it
// is run and what it measured.
//
// It only talks to the URL it is given, which should be on this machine:
//
//	rvload -url http://127.0.0.1:3000 -pid $(pgrep -f rvserver) -rooms 100 -members 100
//
// The server must allow the load: THROTTLE_LIMIT=0, ROOM_MAX_USERS >=
// -members, and SOCKET_EVENT_RATE=-1 so the host may send broadcasts
// back to back.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
)

type ticket struct {
	RoomCode string `json:"roomCode"`
	Token    string `json:"token"`
	UserID   string `json:"userId"`
}

func main() {
	var (
		base       = flag.String("url", "http://127.0.0.1:3000", "server base URL (loopback only)")
		pid        = flag.Int("pid", 0, "server process id, to read its resident memory from /proc")
		nRooms     = flag.Int("rooms", 100, "rooms to create")
		nMembers   = flag.Int("members", 100, "members per room, host included")
		broadcasts = flag.Int("broadcasts", 200, "broadcasts sent to the first room for the latency figure")
		gap        = flag.Duration("gap", 20*time.Millisecond, "pause between broadcasts")
		settle     = flag.Duration("settle", 5*time.Second, "wait before reading memory")
		parallel   = flag.Int("parallel", 64, "concurrent dials and requests")
		hold       = flag.Duration("hold", 0, "keep the connections open this long at the end (for wrk alongside)")
	)
	flag.Parse()
	if err := checkLoopback(*base); err != nil {
		fatal(err)
	}
	ctx := context.Background()
	total := *nRooms * *nMembers
	fmt.Printf("rooms=%d members=%d connections=%d\n", *nRooms, *nMembers, total)

	// 1. Rooms and tickets over REST.
	t0 := time.Now()
	tickets := make([][]ticket, *nRooms)
	forEach(*nRooms, *parallel, func(i int) {
		host := post(*base+"/rooms", fmt.Sprintf(`{"displayName":"host-%d","maxUsers":%d}`, i, *nMembers))
		tickets[i] = make([]ticket, *nMembers)
		tickets[i][0] = host
	})
	forEach(*nRooms**nMembers, *parallel, func(k int) {
		i, j := k / *nMembers, k%*nMembers
		if j == 0 {
			return
		}
		tickets[i][j] = post(*base+"/rooms/"+tickets[i][0].RoomCode+"/join", fmt.Sprintf(`{"displayName":"m-%d-%d"}`, i, j))
	})
	fmt.Printf("created %d rooms and %d members in %s\n", *nRooms, total, time.Since(t0).Round(time.Millisecond))
	fmt.Printf("room code for wrk: %s\n", tickets[0][0].RoomCode)

	time.Sleep(*settle)
	before := rss(*pid)

	// 2. One WebSocket connection per member, joined to /rooms.
	t0 = time.Now()
	clients := make([][]*siotest.Client, *nRooms)
	for i := range clients {
		clients[i] = make([]*siotest.Client, *nMembers)
	}
	var failed atomic.Int64
	forEach(total, *parallel, func(k int) {
		i, j := k / *nMembers, k%*nMembers
		c, err := siotest.Dial(ctx, *base, nil)
		if err != nil {
			failed.Add(1)
			return
		}
		p, err := c.Connect("/rooms", map[string]string{"token": tickets[i][j].Token}, 30*time.Second)
		if err != nil || p.Type != 0 {
			failed.Add(1)
			c.Close()
			return
		}
		clients[i][j] = c
	})
	if n := failed.Load(); n > 0 {
		fatal(fmt.Errorf("%d connections failed (raise ulimit -n?)", n))
	}
	fmt.Printf("connected %d sockets in %s\n", total, time.Since(t0).Round(time.Millisecond))

	// Connecting sent every member a user:connected per member of its room
	// (a million deliveries for 100 rooms of 100): wait until all of them
	// have arrived, so that the memory and latency figures measure an idle
	// server, not that backlog.
	t0 = time.Now()
	for quiet := false; !quiet && time.Since(t0) < 2*time.Minute; {
		quiet = true
		for _, row := range clients {
			for _, c := range row {
				if len(c.Events("/rooms")) > 0 {
					quiet = false
				}
				c.Discard()
			}
		}
		if !quiet {
			time.Sleep(time.Second)
		}
	}
	fmt.Printf("connect events drained in %s\n", time.Since(t0).Round(time.Millisecond))
	time.Sleep(*settle)
	after := rss(*pid)
	if *pid > 0 {
		per := float64(after-before) / float64(total)
		fmt.Printf("server RSS: %.1f MiB before, %.1f MiB with %d idle connections: %.2f KiB per connection\n",
			mib(before), mib(after), total, per/1024)
	}

	// 3. Broadcast latency: the host of room 0 toggles the lock; every
	// member (host included) records when room:lock_toggled arrives.
	room := clients[0]
	sent := make([]time.Time, *broadcasts)
	lat := make([][]time.Duration, len(room))
	var wg sync.WaitGroup
	for m, c := range room {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < *broadcasts; k++ {
				p, err := c.WaitPacket("/rooms", "room:lock_toggled", 10*time.Second)
				if err != nil {
					fatal(fmt.Errorf("member %d broadcast %d: %w", m, k, err))
				}
				lat[m] = append(lat[m], p.Received.Sub(sentAt(sent, k)))
			}
		}()
	}
	for k := 0; k < *broadcasts; k++ {
		storeSent(sent, k, time.Now())
		if err := room[0].Emit("/rooms", "room:toggle_lock"); err != nil {
			fatal(err)
		}
		time.Sleep(*gap)
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	fmt.Printf("broadcast to a %d-member room: %d deliveries, p50 %s, p99 %s, max %s\n",
		len(room), len(all), pct(all, 50), pct(all, 99), all[len(all)-1])

	if *hold > 0 {
		fmt.Printf("holding %d connections for %s\n", total, *hold)
		time.Sleep(*hold)
	}
	for _, row := range clients {
		for _, c := range row {
			c.Close()
		}
	}
	runtime.KeepAlive(clients)
}

var sentMu sync.RWMutex

func storeSent(s []time.Time, k int, t time.Time) { sentMu.Lock(); s[k] = t; sentMu.Unlock() }
func sentAt(s []time.Time, k int) time.Time       { sentMu.RLock(); defer sentMu.RUnlock(); return s[k] }

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

func forEach(n, parallel int, f func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < parallel; w++ {
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

var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func post(u, body string) ticket {
	res, err := httpClient.Post(u, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(res.Body)
		fatal(fmt.Errorf("POST %s: %d %s", u, res.StatusCode, b.String()))
	}
	var t ticket
	if err := json.NewDecoder(res.Body).Decode(&t); err != nil {
		fatal(err)
	}
	return t
}

// rss reads VmRSS of pid in bytes (0 when pid is 0).
func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	fatal(fmt.Errorf("no VmRSS for pid %d", pid))
	return 0
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
