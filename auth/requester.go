package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
)

// maxRequesterLength bounds the requester keys passed to the Limiter and
// the Store (CodeCheck.Requester).
const maxRequesterLength = 64

// requesterOf returns the key that the send and attempt limits count the
// client at address ip under: an IPv4 address as is (IPv4-mapped IPv6
// addresses too), an IPv6 address as its /64 prefix, since one host
// commonly holds a whole /64; "" stays "" (unknown). Anything else that a
// transport passes is kept when short, or hashed.
func requesterOf(ip string) string {
	ip = strings.TrimSpace(ip)
	if ip == "" {
		return ""
	}
	if addr, err := netip.ParseAddr(ip); err == nil {
		addr = addr.WithZone("").Unmap()
		if addr.Is4() {
			return addr.String()
		}
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	if len(ip) <= maxRequesterLength {
		return ip
	}
	sum := sha256.Sum256([]byte(ip))
	return "sha256:" + hex.EncodeToString(sum[:16])
}
