package transport

import (
	"container/list"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxTrackedIPs bounds the handshake limiter's table. Beyond it the least
// recently seen client is forgotten (and starts again with a full burst),
// so that many source addresses cannot grow memory without bound.
const maxTrackedIPs = 1 << 16

// ipLimiter is a token bucket per client key (an IPv4 address or an IPv6
// /64), kept in least-recently-used order. A bucket left alone until it is
// full again is dropped: it would behave exactly like a new one.
type ipLimiter struct {
	rate, burst float64
	idle        time.Duration // time for an empty bucket to fill up
	max         int

	mu      sync.Mutex
	buckets map[string]*list.Element // of *ipBucket
	lru     list.List                // front: most recently used
}

type ipBucket struct {
	key    string
	tokens float64
	last   time.Time
}

// newIPLimiter allows rate events per second per key, in bursts of burst,
// for at most max keys at a time.
func newIPLimiter(rate, burst float64, max int) *ipLimiter {
	return &ipLimiter{
		rate:    rate,
		burst:   burst,
		idle:    time.Duration(burst / rate * float64(time.Second)),
		max:     max,
		buckets: make(map[string]*list.Element),
	}
}

// allow takes one token of key's bucket at now. When none is left it
// returns false and how long until one is.
func (l *ipLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget the buckets that have filled up again since their last use.
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		if b := e.Value.(*ipBucket); now.Sub(b.last) >= l.idle {
			l.lru.Remove(e)
			delete(l.buckets, b.key)
			continue
		}
		break
	}
	var b *ipBucket
	if e, ok := l.buckets[key]; ok {
		b = e.Value.(*ipBucket)
		if d := now.Sub(b.last); d > 0 {
			b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
			b.last = now
		}
		l.lru.MoveToFront(e)
	} else {
		if len(l.buckets) >= l.max {
			e := l.lru.Back()
			l.lru.Remove(e)
			delete(l.buckets, e.Value.(*ipBucket).key)
		}
		b = &ipBucket{key: key, tokens: l.burst, last: now}
		l.buckets[key] = l.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// size is the number of keys tracked.
func (l *ipLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// socketHandler is the Socket.IO endpoint as mounted: new Engine.IO
// sessions (requests without a sid) are limited per client IP
// (Config.ConnectRate), and the CORS headers follow the REST rules.
func (t *Transport) socketHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if t.handshakes != nil && r.Method != http.MethodOptions && r.URL.Query().Get("sid") == "" {
			if ok, after := t.handshakes.allow(limitKey(t.clientIP(r)), t.cfg.Clock.Now()); !ok {
				t.cfg.Metrics.ObserveRefusal(ErrRateLimited.Code)
				if origin != "" && t.originAllowed(r) {
					t.setCORSHeaders(w.Header(), origin)
				}
				// Engine.IO clients look only at the status; the body is
				// the API's error body.
				t.writeError(w, r, retryAfter{err: ErrRateLimited.WithMessage("too many new connections from this address; slow down"), after: after})
				return
			}
		}
		if origin != "" && !t.originListed(origin) && !isWebSocket(r) {
			w = &wildcardCORS{ResponseWriter: w}
		}
		t.io.ServeHTTP(w, r)
	})
}

// isWebSocket reports whether r asks for a WebSocket upgrade (which needs
// the server's own ResponseWriter, and has no CORS).
func isWebSocket(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		if strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	return false
}
