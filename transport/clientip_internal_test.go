package transport

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, tc := range []struct {
		name    string
		remote  string
		xff     []string
		trust   bool
		trusted []netip.Prefix
		want    string
	}{
		{"no proxy trust", "192.0.2.1:5000", []string{"198.51.100.1"}, false, nil, "192.0.2.1"},
		{"no header", "192.0.2.1:5000", nil, true, nil, "192.0.2.1"},
		{"one hop: right-most", "192.0.2.1:5000", []string{"6.6.6.6, 198.51.100.1"}, true, nil, "198.51.100.1"},
		{"one hop: several header lines", "192.0.2.1:5000", []string{"6.6.6.6", "7.7.7.7, 198.51.100.1"}, true, nil, "198.51.100.1"},
		{"one hop: garbage", "192.0.2.1:5000", []string{"6.6.6.6, nonsense"}, true, nil, "192.0.2.1"},
		{"one hop: with port", "192.0.2.1:5000", []string{"198.51.100.1:4711"}, true, nil, "198.51.100.1"},
		{"one hop: IPv6 in brackets", "192.0.2.1:5000", []string{"[2001:db8::1]:80"}, true, nil, "2001:db8::1"},
		{"one hop: mapped IPv4", "192.0.2.1:5000", []string{"::ffff:198.51.100.1"}, true, nil, "198.51.100.1"},
		{"empty entries", "192.0.2.1:5000", []string{" , "}, true, nil, "192.0.2.1"},
		{"trusted: walk past proxies", "10.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1, 10.9.9.9"}, true, trusted, "198.51.100.1"},
		{"trusted: IPv6 proxy", "10.0.0.1:5000", []string{"198.51.100.1, 2001:db8:ffff::7"}, true, trusted, "198.51.100.1"},
		{"trusted: peer not a proxy", "192.0.2.1:5000", []string{"198.51.100.1"}, true, trusted, "192.0.2.1"},
		{"trusted: all proxies", "10.0.0.1:5000", []string{"10.1.1.1, 10.2.2.2"}, true, trusted, "10.1.1.1"},
		{"trusted: garbage after a proxy", "10.0.0.1:5000", []string{"6.6.6.6, nonsense, 10.2.2.2"}, true, trusted, "10.2.2.2"},
		{"trusted: no header", "10.0.0.1:5000", nil, true, trusted, "10.0.0.1"},
		{"unparsable peer", "pipe", []string{"198.51.100.1"}, true, trusted, "pipe"},
	} {
		if got := clientAddr(tc.remote, tc.xff, tc.trust, tc.trusted); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLimitKey(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.1":         "198.51.100.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::9":      "2001:db8:1:2::/64",
		"pipe":                 "pipe",
	} {
		if got := limitKey(in); got != want {
			t.Errorf("limitKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIPLimiter(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := newIPLimiter(2, 4, 100)
	for i := range 4 {
		if ok, _ := l.allow("a", now); !ok {
			t.Fatalf("burst %d refused", i)
		}
	}
	ok, after := l.allow("a", now)
	if ok || after != 500*time.Millisecond {
		t.Fatalf("over the burst: %v, retry after %s, want 500ms", ok, after)
	}
	if ok, _ := l.allow("a", now.Add(500*time.Millisecond)); !ok {
		t.Fatal("refill of one token refused")
	}

	// Many addresses: the table never holds more than its bound.
	for i := range 1000 {
		l.allow(fmt.Sprintf("k%d", i), now)
	}
	if n := l.size(); n != 100 {
		t.Fatalf("%d keys tracked, bound 100", n)
	}
	// Buckets idle long enough to be full again are forgotten.
	l.allow("b", now.Add(time.Hour))
	if n := l.size(); n != 1 {
		t.Fatalf("%d keys tracked after an hour, want 1", n)
	}
}
