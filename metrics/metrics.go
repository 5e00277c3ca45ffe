package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// OtherEvent is the event label of the Socket.IO events received without a
// handler of their own, so that clients cannot grow the label set.
const OtherEvent = "other"

// maxLabel bounds a label value taken from a name the server chose (an
// emitted event, an error code).
const maxLabel = 64

// SocketCounter reports the connected sockets by namespace and transport
// ("polling" or "websocket"), at scrape time.
type SocketCounter func(yield func(namespace, transport string, n int))

// Registry holds the collectors of rendezvous. Create it with New. Its
// methods are safe for concurrent use; on a nil Registry they do nothing.
type Registry struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	socketsDesc  *prometheus.Desc
	eventsIn     *prometheus.CounterVec
	eventsOut    *prometheus.CounterVec
	refusals     *prometheus.CounterVec
	slowClients  prometheus.Counter
	publish      *prometheus.HistogramVec
	delivery     prometheus.Histogram
	queueWaiting prometheus.Gauge
	queuePairs   prometheus.Histogram
	sessionsLive prometheus.Gauge
	sessionsEnd  *prometheus.CounterVec
	schedLag     *prometheus.HistogramVec
	schedRetry   *prometheus.CounterVec
	webhooks     *prometheus.CounterVec
	submissions  *prometheus.CounterVec
	errors       *prometheus.CounterVec

	mu      sync.Mutex
	sockets SocketCounter
}

// New returns a Registry with every family of rendezvous registered on a
// new prometheus.Registry.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendezvous_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status.",
	}, []string{"route", "method", "status"})
	r.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rendezvous_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method"})
	r.socketsDesc = prometheus.NewDesc("rendezvous_socketio_sockets",
		"Socket.IO sockets connected to this instance, by namespace and transport.",
		[]string{"namespace", "transport"}, nil)
	r.eventsIn = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendezvous_socketio_events_received_total",
		Help: `Socket.IO events received, by namespace and event name ("other" for events without a handler).`,
	}, []string{"namespace", "event"})
	r.eventsOut = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendezvous_socketio_events_sent_total",
		Help: "Socket.IO events sent to sockets (one per recipient), by namespace and event name.",
	}, []string{"namespace", "event"})
	r.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendezvous_socketio_refusals_total",
		Help: "Socket.IO connections refused (namespace CONNECT_ERROR or handshake rate limit), by error code.",
	}, []string{"code"})
	r.slowClients = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "rendezvous_socketio_slow_client_disconnects_total",
		Help: "WebSocket clients disconnected because they read too slowly.",
	})
	r.publish = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rendezvous_broker_publish_duration_seconds",
		Help:    `Time to publish events to the broker, by result ("ok" or "error").`,
		Buckets: latencyBuckets,
	}, []string{"result"})
	r.delivery = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "rendezvous_broker_delivery_duration_seconds",
		Help:    "Time to hand one event received from the broker to the local sockets of its target.",
		Buckets: latencyBuckets,
	})
	r.queueWaiting = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "rendezvous_queue_waiting",
		Help: "Users waiting in the matchmaking queue, as of this instance's last tick.",
	})
	r.queuePairs = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "rendezvous_queue_pairs_per_tick",
		Help:    "Pairs made by one matchmaking tick of this instance.",
		Buckets: []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
	})
	r.sessionsLive = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "rendezvous_sessions_live",
		Help: "Sessions started minus sessions ended by this instance: summed over the instances, the live video sessions.",
	})
	r.sessionsEnd = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendezvous_sessions_ended_total",
		Help: "Video sessions ended by this instance, by end reason.",
	}, []string{"reason"})
	r.schedLag = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rendezvous_scheduler_lag_seconds",
		Help:    "Time from a durable job's due time to its claim, by job kind.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"kind"})
	r.schedRetry = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendezvous_scheduler_reclaimed_total",
		Help: "Durable jobs claimed again (Attempt above 1: retried, or taken over after a lost lease), by job kind.",
	}, []string{"kind"})
	r.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendezvous_webhooks_total",
		Help: `Webhook deliveries, by provider and result ("ok" or the error code answered).`,
	}, []string{"provider", "result"})
	r.submissions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendezvous_moderation_submissions_total",
		Help: `Calls submitted to the moderation service at their start, by result ("ok" or "error").`,
	}, []string{"result"})
	r.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rendezvous_errors_total",
		Help: `Server-side failures answered to clients (kind "unavailable", such as STORE_UNAVAILABLE, or "internal"), by kind and code.`,
	}, []string{"kind", "code"})
	r.reg.MustRegister(r.httpRequests, r.httpDuration, socketCollector{r}, r.eventsIn, r.eventsOut,
		r.refusals, r.slowClients, r.publish, r.delivery, r.queueWaiting, r.queuePairs,
		r.sessionsLive, r.sessionsEnd, r.schedLag, r.schedRetry, r.webhooks, r.submissions, r.errors)
	return r
}

// latencyBuckets are the buckets of the broker's latencies: from 100 µs
// (in process) to seconds (a struggling Redis).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Gatherer is the prometheus registry itself, to merge with a host
// application's (prometheus.Gatherers{app, r.Gatherer()}).
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// Registerer is the prometheus registry, for a host application's own
// collectors.
func (r *Registry) Registerer() prometheus.Registerer { return r.reg }

// Handler serves the registry in the Prometheus text format, for
// GET /metrics.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// ObserveHTTP counts one answered HTTP request of route (a ServeMux
// pattern such as "GET /rooms/{code}").
func (r *Registry) ObserveHTTP(route, method string, status int, d time.Duration) {
	if r == nil {
		return
	}
	r.httpRequests.WithLabelValues(route, method, statusLabel(status)).Inc()
	r.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// SetSocketCounter sets the function that counts the connected sockets at
// scrape time (the Transport given this Registry sets it).
func (r *Registry) SetSocketCounter(f SocketCounter) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.sockets = f
	r.mu.Unlock()
}

// ObserveEventIn counts an event received in namespace; event is "" (or
// OtherEvent) for an event without a handler.
func (r *Registry) ObserveEventIn(namespace, event string) {
	if r == nil {
		return
	}
	if event == "" {
		event = OtherEvent
	}
	r.eventsIn.WithLabelValues(namespace, clip(event)).Inc()
}

// ObserveEventOut counts an event sent to n sockets of namespace.
func (r *Registry) ObserveEventOut(namespace, event string, n int) {
	if r == nil || n <= 0 {
		return
	}
	r.eventsOut.WithLabelValues(namespace, clip(event)).Add(float64(n))
}

// ObserveRefusal counts a refused Socket.IO connection with its error code.
func (r *Registry) ObserveRefusal(code string) {
	if r == nil {
		return
	}
	r.refusals.WithLabelValues(clip(code)).Inc()
}

// ObserveSlowClient counts a client disconnected for reading too slowly.
func (r *Registry) ObserveSlowClient() {
	if r == nil {
		return
	}
	r.slowClients.Inc()
}

// ObservePublish counts a publication to the broker that took d and failed
// with err (nil when it succeeded).
func (r *Registry) ObservePublish(d time.Duration, err error) {
	if r == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	r.publish.WithLabelValues(result).Observe(d.Seconds())
}

// ObserveDelivery counts one event handed to the local sockets in d.
func (r *Registry) ObserveDelivery(d time.Duration) {
	if r == nil {
		return
	}
	r.delivery.Observe(d.Seconds())
}

// ObserveTick records a matchmaking tick that made pairs, with waiting
// users left in the queue.
func (r *Registry) ObserveTick(pairs, waiting int) {
	if r == nil {
		return
	}
	r.queuePairs.Observe(float64(pairs))
	r.queueWaiting.Set(float64(waiting))
}

// ObserveSession records a session started (delta 1) or ended (delta -1,
// with its end reason).
func (r *Registry) ObserveSession(delta int, reason string) {
	if r == nil {
		return
	}
	r.sessionsLive.Add(float64(delta))
	if delta < 0 {
		r.sessionsEnd.WithLabelValues(clip(reason)).Inc()
	}
}

// ObserveJob records the claim of a durable job of kind, lag after its due
// time, on its attempt-th claim.
func (r *Registry) ObserveJob(kind string, attempt int, lag time.Duration) {
	if r == nil {
		return
	}
	kind = clip(kind)
	r.schedLag.WithLabelValues(kind).Observe(max(lag, 0).Seconds())
	if attempt > 1 {
		r.schedRetry.WithLabelValues(kind).Inc()
	}
}

// ObserveWebhook counts a webhook delivery of provider: result is "ok" or
// the error code answered.
func (r *Registry) ObserveWebhook(provider, result string) {
	if r == nil {
		return
	}
	r.webhooks.WithLabelValues(clip(provider), clip(result)).Inc()
}

// ObserveSubmission counts a call's submission to the moderation service:
// err nil is "ok", anything else "error".
func (r *Registry) ObserveSubmission(err error) {
	if r == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	r.submissions.WithLabelValues(result).Inc()
}

// ObserveError counts a server-side failure answered to a client, by kind
// ("unavailable", "internal") and code.
func (r *Registry) ObserveError(kind, code string) {
	if r == nil {
		return
	}
	r.errors.WithLabelValues(clip(kind), clip(code)).Inc()
}

// socketCollector reports the connected sockets at scrape time.
type socketCollector struct{ r *Registry }

func (c socketCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.r.socketsDesc }

func (c socketCollector) Collect(ch chan<- prometheus.Metric) {
	c.r.mu.Lock()
	f := c.r.sockets
	c.r.mu.Unlock()
	if f == nil {
		return
	}
	f(func(namespace, transport string, n int) {
		ch <- prometheus.MustNewConstMetric(c.r.socketsDesc, prometheus.GaugeValue, float64(n), namespace, transport)
	})
}

// statusLabels are the labels of the HTTP statuses, made once.
var statusLabels = func() (l [600]string) {
	for i := range l {
		l[i] = strconv.Itoa(i)
	}
	return l
}()

func statusLabel(status int) string {
	if status >= 0 && status < len(statusLabels) {
		return statusLabels[status]
	}
	return strconv.Itoa(status)
}

// clip bounds a label value.
func clip(s string) string {
	if len(s) <= maxLabel {
		return s
	}
	return s[:maxLabel]
}
