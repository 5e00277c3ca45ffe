package transport_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
)

// With TRUST_PROXY and no trusted networks, one hop is trusted: the
// right-most X-Forwarded-For entry. Entries a client writes itself on the
// left change nothing.
func TestTrustProxyUsesRightmostEntry(t *testing.T) {
	s := newStack(t, options{throttle: 3, trustProxy: true})
	limited := 0
	for i := range 20 {
		xff := fmt.Sprintf("%d.%d.%d.%d, 203.0.113.7", rand.IntN(223)+1, rand.IntN(256), rand.IntN(256), rand.IntN(256))
		r := do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, "X-Forwarded-For", xff)
		switch {
		case i < 3 && r.Status != 201:
			t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
		case i >= 3 && r.Status == 429:
			limited++
		}
	}
	if limited != 17 {
		t.Fatalf("%d of 17 requests over the limit were refused: the client chose its IP", limited)
	}
	// Another client behind the same proxy has its own budget.
	if r := do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, "X-Forwarded-For", "203.0.113.8"); r.Status != 201 {
		t.Fatalf("another client: %d %s", r.Status, r.Body)
	}
}

// With trusted networks, X-Forwarded-For is walked from the right past
// the trusted proxies; a peer that is not a trusted proxy is the client.
func TestTrustedProxies(t *testing.T) {
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	internal := netip.MustParsePrefix("10.0.0.0/8")
	s := newStack(t, options{throttle: 2, trustProxy: true, trustedProxies: []netip.Prefix{loopback, internal}})
	for i := range 2 {
		// The client is 198.51.100.9, behind two internal proxies; what it
		// wrote itself on the left is ignored.
		xff := fmt.Sprintf("192.0.2.%d, 198.51.100.9, 10.1.2.3, 10.0.0.5", i+1)
		if r := do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, "X-Forwarded-For", xff); r.Status != 201 {
			t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
		}
	}
	wantError(t, do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, "X-Forwarded-For", "192.0.2.99, 198.51.100.9, 10.0.0.5"), 429, "RATE_LIMITED")
	r := do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, "X-Forwarded-For", "198.51.100.10")
	if r.Status != 201 {
		t.Fatalf("another client: %d %s", r.Status, r.Body)
	}

	// The peer (127.0.0.1) is not trusted here: X-Forwarded-For is
	// ignored and the peer is the client.
	s2 := newStack(t, options{throttle: 2, trustProxy: true, trustedProxies: []netip.Prefix{internal}})
	for i := range 3 {
		r := do(t, "POST", s2.URL+"/rooms", `{"displayName":"A"}`, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		if i < 2 && r.Status != 201 || i == 2 && r.Status != 429 {
			t.Fatalf("request %d from an untrusted peer: %d", i, r.Status)
		}
	}
}

// New Engine.IO sessions are limited per client IP (ConnectRate per second,
// bursts of twice that); the requests of an open session are not counted.
func TestHandshakeRateLimit(t *testing.T) {
	clock := fakeclock.New(time.Now())
	s := newStack(t, options{connectRate: 2, trustProxy: true, clock: clock})
	handshake := func(ip string) response {
		return do(t, "GET", s.URL+"/socket.io/?EIO=4&transport=polling", "", "X-Forwarded-For", ip)
	}
	for i := range 4 {
		if r := handshake("198.51.100.1"); r.Status != 200 {
			t.Fatalf("handshake %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := handshake("198.51.100.1")
	wantError(t, r, 429, "RATE_LIMITED")
	if ra := r.Header.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q, want 1", ra)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	// Requests of a session (with sid) are not handshakes.
	if r := do(t, "GET", s.URL+"/socket.io/?EIO=4&transport=polling&sid=unknown", "", "X-Forwarded-For", "198.51.100.1"); r.Status == 429 {
		t.Fatal("a request with a sid was counted as a handshake")
	}
	// Another IP has its own budget.
	if r := handshake("198.51.100.2"); r.Status != 200 {
		t.Fatalf("another IP: %d", r.Status)
	}
	// Half a second gives back one handshake at 2 per second.
	clock.Advance(500 * time.Millisecond)
	if r := handshake("198.51.100.1"); r.Status != 200 {
		t.Fatalf("after 500 ms: %d %s", r.Status, r.Body)
	}
	wantError(t, handshake("198.51.100.1"), 429, "RATE_LIMITED")
	// A WebSocket handshake counts too.
	if c, err := siotest.Dial(context.Background(), s.URL, map[string]string{"X-Forwarded-For": "198.51.100.1"}); err == nil {
		c.Close()
		t.Fatal("a WebSocket handshake over the limit was accepted")
	}
}

func TestHandshakeRateLimitDisabled(t *testing.T) {
	s := newStack(t, options{connectRate: -1})
	for i := range 150 {
		if r := do(t, "GET", s.URL+"/socket.io/?EIO=4&transport=polling", ""); r.Status != 200 {
			t.Fatalf("handshake %d: %d", i, r.Status)
		}
	}
}
