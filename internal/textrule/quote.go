package textrule

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxQuoted is the most bytes of client input that Quote echoes.
const MaxQuoted = 64

// Quote returns s as a Go-syntax quoted string (control and invisible
// characters escaped) of at most its first MaxQuoted bytes, cut at a
// character boundary and followed by "…" when s is longer. Invalid UTF-8
// is shown as \x escapes.
func Quote(s string) string {
	if len(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	// Back to the start of the character at the cut, within one
	// character's length (invalid UTF-8 has no start to find).
	cut := MaxQuoted
	for i := 1; i < utf8.UTFMax && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	q := strconv.Quote(s[:cut])
	return strings.TrimSuffix(q, `"`) + `…"`
}
