package redis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
	"github.com/rendezvous-go/rendezvous/store/redis"
)

// BenchmarkBrokerFanout measures the fan-out of b.N events spread over 300
// targets through a real Redis to 3 broker instances. In "own-targets"
// each instance follows its 100 targets, as the transport does; in
// "all-targets" every instance follows all 300, which is what every
// instance received when all events went over one channel. It reports the
// events and payload bytes each instance receives per event published,
// and the publish-to-deliver latency of the deliveries to the instance
// that owns the target (p50, p99). "flood" publishes from 4 goroutines as
// fast as Redis answers; "paced" from one goroutine, one event every
// 500 µs (2,000 events/s), for the latency of an instance that is not
// saturated.
//
//	RENDEZVOUS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
//	  go test -run '^$' -bench BrokerFanout -benchtime 6000x ./store/redis/
func BenchmarkBrokerFanout(b *testing.B) {
	for _, load := range []string{"flood", "paced"} {
		for _, mode := range []string{"all-targets", "own-targets"} {
			b.Run(load+"/"+mode, func(b *testing.B) { benchFanout(b, mode == "all-targets", load == "paced") })
		}
	}
}

const (
	benchInstances  = 3
	benchTargets    = 300
	benchPublishers = 4
)

type benchInstance struct {
	events, bytes atomic.Int64
	mu            sync.Mutex
	latencies     []time.Duration
}

func benchFanout(b *testing.B, all, paced bool) {
	client, prefix := testenv.Redis(b)
	ctx := context.Background()
	target := func(i int) string { return fmt.Sprintf("room:T%03d", i) }
	owned := make(chan struct{}, 1<<16)

	insts := make([]*benchInstance, benchInstances)
	for i := range insts {
		in := &benchInstance{}
		insts[i] = in
		br := redis.NewBroker(client, prefix)
		unsubscribe, err := br.Subscribe(ctx, func(ev rv.Event) {
			var p struct {
				At     int64 `json:"at"`
				Target int   `json:"t"`
			}
			if err := json.Unmarshal(ev.Data, &p); err != nil {
				b.Errorf("payload %s: %v", ev.Data, err)
				return
			}
			raw, _ := json.Marshal(ev)
			in.events.Add(1)
			in.bytes.Add(int64(len(raw)))
			if p.Target%benchInstances == i {
				d := time.Duration(time.Now().UnixNano() - p.At)
				in.mu.Lock()
				in.latencies = append(in.latencies, d)
				in.mu.Unlock()
				owned <- struct{}{}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(unsubscribe)
		for t := range benchTargets {
			if all || t%benchInstances == i {
				if err := br.Follow(ctx, "/rooms", target(t)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	pub := redis.NewBroker(client, prefix)

	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	publishers, pause := benchPublishers, time.Duration(0)
	if paced {
		publishers, pause = 1, 500*time.Microsecond
	}
	for range publishers {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= b.N {
					return
				}
				t := n % benchTargets
				ev := rv.NewEvent("/rooms", target(t), "room:state", map[string]any{
					"at": time.Now().UnixNano(), "t": t,
					"users": []string{"Ada", "Grace", "Linus"},
				})
				if err := pub.Notify(ctx, ev); err != nil {
					b.Error(err)
					return
				}
				if pause > 0 {
					time.Sleep(pause)
				}
			}
		})
	}
	wg.Wait()
	deadline := time.After(60 * time.Second)
	for range b.N {
		select {
		case <-owned:
		case <-deadline:
			b.Fatal("events not delivered")
		}
	}
	b.StopTimer()

	var lat []time.Duration
	var events, bytes int64
	for _, in := range insts {
		lat = append(lat, in.latencies...)
		events += in.events.Load()
		bytes += in.bytes.Load()
	}
	// Deliveries to non-owners (all-targets mode) may still be in flight;
	// they are counted as far as they arrived, a lower bound.
	slices.Sort(lat)
	b.ReportMetric(float64(events)/benchInstances/float64(b.N), "events-recv/inst/event")
	b.ReportMetric(float64(bytes)/benchInstances/float64(b.N), "bytes-recv/inst/event")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
