package metrics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rendezvous-go/rendezvous/metrics"
)

// A nil Registry ignores every observation.
func TestNilRegistry(t *testing.T) {
	var r *metrics.Registry
	r.ObserveHTTP("GET /", "GET", 200, time.Millisecond)
	r.ObserveEventIn("/rooms", "")
	r.ObserveEventOut("/rooms", "room:closed", 3)
	r.ObserveRefusal("TOKEN_MISSING")
	r.ObserveSlowClient()
	r.ObservePublish(time.Millisecond, nil)
	r.ObserveDelivery(time.Millisecond)
	r.ObserveTick(1, 2)
	r.ObserveSession(1, "")
	r.ObserveJob("k", 2, time.Second)
	r.ObserveWebhook("stripe", "ok")
	r.ObserveError("unavailable", "STORE_UNAVAILABLE")
	r.ObserveSubmission(nil)
	r.SetSocketCounter(nil)
}

// Every family is registered, and the observations land in it.
func TestFamilies(t *testing.T) {
	r := metrics.New()
	r.ObserveHTTP("GET /rooms/{code}", "GET", 404, time.Millisecond)
	r.ObserveEventIn("/rooms", "")
	r.ObserveEventIn("/rooms", "room:leave")
	r.ObserveEventOut("/rooms", "room:closed", 3)
	r.ObserveRefusal("TOKEN_MISSING")
	r.ObserveSlowClient()
	r.ObservePublish(time.Millisecond, errors.New("down"))
	r.ObserveDelivery(time.Millisecond)
	r.ObserveTick(4, 7)
	r.ObserveSession(1, "")
	r.ObserveSession(1, "")
	r.ObserveSession(-1, "timeout")
	r.ObserveJob("room.expire", 1, time.Second)
	r.ObserveJob("room.expire", 2, -time.Second)
	r.ObserveWebhook("stripe", "WEBHOOK_SIGNATURE_INVALID")
	r.ObserveError("unavailable", "STORE_UNAVAILABLE")
	r.ObserveSubmission(nil)
	r.ObserveSubmission(errors.New("hive is down"))
	r.SetSocketCounter(func(yield func(namespace, transport string, n int)) {
		yield("/rooms", "websocket", 2)
		yield("/rooms", "polling", 1)
	})
	want := map[string]int{
		"rendezvous_http_requests_total":                    1,
		"rendezvous_http_request_duration_seconds":          1,
		"rendezvous_socketio_sockets":                       2,
		"rendezvous_socketio_events_received_total":         2,
		"rendezvous_socketio_events_sent_total":             1,
		"rendezvous_socketio_refusals_total":                1,
		"rendezvous_socketio_slow_client_disconnects_total": 1,
		"rendezvous_broker_publish_duration_seconds":        1,
		"rendezvous_broker_delivery_duration_seconds":       1,
		"rendezvous_queue_waiting":                          1,
		"rendezvous_queue_pairs_per_tick":                   1,
		"rendezvous_sessions_live":                          1,
		"rendezvous_sessions_ended_total":                   1,
		"rendezvous_scheduler_lag_seconds":                  1,
		"rendezvous_scheduler_reclaimed_total":              1,
		"rendezvous_webhooks_total":                         1,
		"rendezvous_moderation_submissions_total":           2,
		"rendezvous_errors_total":                           1,
	}
	for name, n := range want {
		got, err := testutil.GatherAndCount(r.Gatherer(), name)
		if err != nil || got != n {
			t.Errorf("%s: %d series (err %v), want %d", name, got, err, n)
		}
	}
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != len(want) {
		t.Errorf("%d families gathered, want %d", len(mfs), len(want))
	}
	for _, mf := range mfs {
		if mf.GetName() == "rendezvous_sessions_live" {
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v != 1 {
				t.Errorf("sessions live %v, want 1", v)
			}
		}
	}
}
