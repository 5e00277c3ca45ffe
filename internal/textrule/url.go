package textrule

import (
	"net/netip"
	"net/url"
	"strings"
)

// maxHostLength is the longest DNS name.
const maxHostLength = 253

// localSuffixes are the special-use names that never name a public host.
var localSuffixes = []string{"localhost", "local", "internal", "localdomain", "home.arpa", "arpa", "invalid"}

// CheckHTTPSURL checks s against the photo-URL rule (see the package
// documentation), at most maxLen bytes long, and returns a *Violation
// when it breaks it.
func CheckHTTPSURL(s string, maxLen int) error {
	switch {
	case s == "":
		return violation("must be an absolute https URL")
	case len(s) > maxLen:
		return violation("must be at most %d characters long", maxLen)
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b <= ' ' || b >= 0x7F:
			return violation("must hold only printable ASCII: no spaces, control or non-ASCII characters (percent-encode them)")
		case !urlByte(b):
			return violation("must not contain %q (percent-encode it)", b)
		case b == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])):
			return violation("must hold only valid percent escapes (%%XX)")
		}
	}
	if !strings.HasPrefix(s, "https://") {
		return violation("must be an absolute https URL (https://host/path)")
	}
	rest := s[len("https://"):]
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	switch {
	case strings.Contains(authority, "@"):
		return violation("must not contain a user name or password")
	case strings.Contains(authority, ":"):
		return violation("must not name a port")
	case strings.Count(s, "#") > 1:
		return violation("must hold at most one fragment (#)")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil || u.Host != authority {
		return violation("must be an absolute https URL (https://host/path)")
	}
	return checkHost(authority)
}

// checkHost checks that host is a DNS name of a public host.
func checkHost(host string) error {
	host = strings.ToLower(host)
	if host == "" {
		return violation("must name a host")
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return violation("must name its host by a DNS name, not an IP address")
	}
	if len(host) > maxHostLength {
		return violation("must have a host name of at most %d characters", maxHostLength)
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return violation("must have a fully qualified host name, such as cdn.example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return violation("must have a valid host name (labels of 1 to 63 letters, digits or inner hyphens)")
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return violation("must have a valid host name (labels of 1 to 63 letters, digits or inner hyphens)")
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return violation("must name its host by a DNS name, not an IP address")
	}
	for _, suffix := range localSuffixes {
		if host == suffix || strings.HasSuffix(host, "."+suffix) {
			return violation("must name a public host, not %s", suffix)
		}
	}
	return nil
}

// urlByte reports whether b may appear in a URL as is (RFC 3986
// unreserved, reserved but for the brackets of IP literals, and "%").
func urlByte(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("-._~:/?#@!$&'()*+,;=%", b) >= 0
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}
