package textrule_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rendezvous-go/rendezvous/internal/textrule"
)

// FuzzDisplayName: Check never panics, and what it accepts is valid,
// trimmed, within bounds, free of controls and separators, and accepted
// again unchanged.
func FuzzDisplayName(f *testing.F) {
	for _, s := range []string{"Alice", " \u200d ", "👩\u200d👩\u200d👧", "a\u2028b", "\xff", "🏴\U000E0067\U000E007F", "Jose\u0301"} {
		f.Add(s)
	}
	rule := textrule.DisplayName{Min: 1, Max: 32}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := rule.Check(in)
		if err != nil {
			return
		}
		n := utf8.RuneCountInString(got)
		if !utf8.ValidString(got) || n < 1 || n > 32 || strings.TrimFunc(got, unicode.IsSpace) != got {
			t.Fatalf("Check(%+q) accepted %+q", in, got)
		}
		for _, c := range got {
			if unicode.In(c, unicode.Cc, unicode.Zl, unicode.Zp, unicode.Co) || c == utf8.RuneError {
				t.Fatalf("Check(%+q) accepted %+q with U+%04X", in, got, c)
			}
		}
		if again, err := rule.Check(got); err != nil || again != got {
			t.Fatalf("Check is not idempotent on %+q: %+q, %v", got, again, err)
		}
	})
}

// FuzzHTTPSURL: CheckHTTPSURL never panics, and what it accepts is
// printable ASCII starting with https://.
func FuzzHTTPSURL(f *testing.F) {
	for _, s := range []string{"https://cdn.example.com/a.jpg", "https://127.0.0.1/", "https://a@b.example/", "https://x.example/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if textrule.CheckHTTPSURL(in, 2048) != nil {
			return
		}
		if !strings.HasPrefix(in, "https://") || strings.ContainsFunc(in, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
			t.Fatalf("accepted %q", in)
		}
	})
}
