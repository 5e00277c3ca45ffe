package transport

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address rate limits count against: the connection's
// peer, or with Config.TrustProxy the client named by X-Forwarded-For as
// the trusted proxies wrote it (see clientAddr).
func (t *Transport) clientIP(r *http.Request) string {
	return clientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), t.cfg.TrustProxy, t.cfg.TrustedProxies)
}

// requestIP is clientIP, worked out once per request: the statusWriter
// of Observed keeps it for the access log line.
func (t *Transport) requestIP(w http.ResponseWriter, r *http.Request) string {
	sw, ok := w.(*statusWriter)
	if !ok {
		return t.clientIP(r)
	}
	if sw.ip == "" {
		sw.ip = t.clientIP(r)
	}
	return sw.ip
}

// clientAddr picks the client address of a request from its peer address
// (remote, "host:port") and its X-Forwarded-For header lines.
//
// Without trustProxy it is the peer. With it and no trusted networks,
// exactly one hop is trusted: the right-most X-Forwarded-For entry, which
// the proxy in front of this server appended. With trusted networks, the
// peer must be inside one of them (else it is the client); the entries are
// then walked from the right past those inside the trusted networks, and
// the first other one is the client (the left-most, when all are trusted).
// Entries on the left of it were written by the client and never count.
func clientAddr(remote string, xff []string, trustProxy bool, trusted []netip.Prefix) string {
	peer, peerOK := parseAddr(remote)
	peerStr := remote
	if peerOK {
		peerStr = peer.String()
	} else if host, _, err := net.SplitHostPort(remote); err == nil {
		peerStr = host
	}
	if !trustProxy {
		return peerStr
	}
	if len(trusted) > 0 && (!peerOK || !inPrefixes(peer, trusted)) {
		return peerStr
	}
	entries := forwardedFor(xff)
	if len(entries) == 0 {
		return peerStr
	}
	if len(trusted) == 0 {
		if a, ok := parseAddr(entries[len(entries)-1]); ok {
			return a.String()
		}
		return peerStr
	}
	client := peerStr
	for i := len(entries) - 1; i >= 0; i-- {
		a, ok := parseAddr(entries[i])
		if !ok {
			// Not an address: the hop that wrote it is as far as the
			// chain can be followed.
			break
		}
		client = a.String()
		if !inPrefixes(a, trusted) {
			break
		}
	}
	return client
}

// forwardedFor splits X-Forwarded-For header lines into their entries, in
// order, dropping empty ones.
func forwardedFor(lines []string) []string {
	var out []string
	for _, line := range lines {
		for entry := range strings.SplitSeq(line, ",") {
			if e := strings.TrimSpace(entry); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// parseAddr parses "1.2.3.4", "1.2.3.4:80", "::1", "[::1]" or "[::1]:80".
// IPv4-mapped IPv6 addresses become IPv4 and zones are dropped.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	// A peer address has a port ("1.2.3.4:80", "[::1]:80"): try that
	// first, as a failed parse allocates its error.
	if i := strings.LastIndexByte(s, ':'); i > 0 && (s[0] == '[' || strings.IndexByte(s[:i], ':') < 0) {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap().WithZone(""), true
		}
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func inPrefixes(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limitKey is the key of a per-client limit for the address ip: the
// address itself for IPv4, its /64 network for IPv6 (one subscriber
// usually holds a whole /64).
func limitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
