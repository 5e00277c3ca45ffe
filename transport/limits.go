package transport

import (
	"errors"
	"net/netip"

	rv "github.com/rendezvous-go/rendezvous"
)

// limitDefaults validates the abuse limits of cfg and fills their
// defaults: MaxSocketsPerUser 5, ConnectRate 50, Clock the system clock.
func limitDefaults(cfg *Config) error {
	if cfg.MaxSocketsPerUser == 0 {
		cfg.MaxSocketsPerUser = 5
	}
	if cfg.ConnectRate == 0 {
		cfg.ConnectRate = 50
	}
	if cfg.Clock == nil {
		cfg.Clock = rv.SystemClock
	}
	prefixes := make([]netip.Prefix, 0, len(cfg.TrustedProxies))
	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return errors.New("transport: Config.TrustedProxies holds an invalid network")
		}
		prefixes = append(prefixes, p.Masked())
	}
	cfg.TrustedProxies = prefixes
	return nil
}

// initLimits builds the per-user socket cap, the per-IP handshake limiter,
// the event fan-out and the local-first HTTP rate limit of t.
func (t *Transport) initLimits() {
	if t.cfg.MaxSocketsPerUser > 0 {
		t.sockets = newSocketCap(t.cfg.MaxSocketsPerUser)
	}
	if t.cfg.ConnectRate > 0 {
		t.handshakes = newIPLimiter(t.cfg.ConnectRate, max(1, 2*t.cfg.ConnectRate), maxTrackedIPs)
	}
	t.fanout = newFanout(t.deliver, 0, fanoutQueueLimit, t.log)
	t.fanout.batch, t.fanout.deliverBatch = fanoutBatch, t.deliverBatch
	if hc, ok := t.cfg.Limiter.(HitCounter); ok && t.cfg.ThrottleLimit > 0 && t.cfg.ThrottleSync > 0 {
		t.local = newLocalThrottle(hc, t.cfg.ThrottleLimit, t.cfg.ThrottleWindow, t.cfg.ThrottleSync, t.cfg.Clock, t.log)
	}
}
