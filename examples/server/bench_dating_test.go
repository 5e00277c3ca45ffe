package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/matchmaking"
)

// BenchmarkQueueSecondJoinToMatch measures, end to end on the embedded
// default (memory stores), the time from the second user's POST
// /queue/join to both users' match events on /queue, with the default
// QUEUE_TICK_MS of 500 and with 50. Each iteration pairs two fresh users
// in a region of their own, the second join at a random point of the
// tick period (the wait before it is not timed), so the figure is
// dominated by the wait for the next tick: uniform over the period. The
// p50/p99 metrics come with it.
func BenchmarkQueueSecondJoinToMatch(b *testing.B) {
	for _, tick := range []int{500, 50} {
		b.Run("tick="+strconv.Itoa(tick)+"ms", func(b *testing.B) { benchSecondJoinToMatch(b, tick) })
	}
}

func benchSecondJoinToMatch(b *testing.B, tickMS int) {
	base, _ := start(b, map[string]string{
		"SIGNUP_BONUS_TOKENS": "1", "THROTTLE_LIMIT": "0", "SOCKET_CONNECT_RATE": "0",
		"QUEUE_TICK_MS": strconv.Itoa(tickMS),
	})
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		ta, tb := benchSignup(b, base), benchSignup(b, base)
		ca, cb := benchQueueSocket(b, base, ta), benchQueueSocket(b, base, tb)
		region := `{"region":"bench-` + strconv.Itoa(i) + `"}`
		benchJoin(b, base, ta, region)
		time.Sleep(rand.N(time.Duration(tickMS) * time.Millisecond)) // a random phase, not synchronisation
		b.StartTimer()
		began := time.Now()
		benchJoin(b, base, tb, region)
		var wg sync.WaitGroup
		for _, c := range []*siotest.Client{ca, cb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.WaitEvent(matchmaking.Namespace, matchmaking.EventMatch, 30*time.Second); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		lat = append(lat, time.Since(began))
		b.StopTimer()
		ca.Close()
		cb.Close()
		b.StartTimer()
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if n := len(lat); n > 0 {
		b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[(n*99)/100].Microseconds())/1000, "p99-ms")
	}
}

func benchSignup(b *testing.B, base string) string {
	res, err := http.Post(base+"/auth/signup-anonymous", "application/json", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ AccessToken string }
	if res.StatusCode != 201 || json.NewDecoder(res.Body).Decode(&body) != nil {
		b.Fatalf("signup: %d", res.StatusCode)
	}
	return body.AccessToken
}

func benchQueueSocket(b *testing.B, base, token string) *siotest.Client {
	c, err := siotest.Dial(context.Background(), base, nil)
	if err != nil {
		b.Fatal(err)
	}
	if p, err := c.Connect(matchmaking.Namespace, map[string]string{"token": token}, 30*time.Second); err != nil || p.Type != 0 {
		b.Fatalf("connect /queue: %+v %v", p, err)
	}
	return c
}

func benchJoin(b *testing.B, base, token, body string) {
	req, _ := http.NewRequest("POST", base+"/queue/join", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		b.Fatalf("join: %d", res.StatusCode)
	}
}
