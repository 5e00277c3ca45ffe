package auth_test

import (
	"errors"
	"strings"
	"testing"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
)

// TestProfileTextRules: the profile's displayName and interests follow
// the display-name rule shared with rooms, and photoUrls the strict https
// rule.
func TestProfileTextRules(t *testing.T) {
	str := func(s string) *string { return &s }
	list := func(s ...string) *[]string { return &s }
	bad := map[string]struct {
		patch auth.ProfilePatch
		field string
	}{
		"ZWJ name":                  {auth.ProfilePatch{DisplayName: str("\u200d")}, "displayName"},
		"Hangul filler name":        {auth.ProfilePatch{DisplayName: str("\u3164")}, "displayName"},
		"braille blank name":        {auth.ProfilePatch{DisplayName: str("\u2800")}, "displayName"},
		"line separator in name":    {auth.ProfilePatch{DisplayName: str("a\u2028b")}, "displayName"},
		"paragraph sep. in name":    {auth.ProfilePatch{DisplayName: str("a\u2029b")}, "displayName"},
		"replacement char in name":  {auth.ProfilePatch{DisplayName: str("a\ufffdb")}, "displayName"},
		"word joiner in name":       {auth.ProfilePatch{DisplayName: str("a\u2060b")}, "displayName"},
		"bidi override in name":     {auth.ProfilePatch{DisplayName: str("\u202eevil")}, "displayName"},
		"invisible interest":        {auth.ProfilePatch{Interests: list("jazz", "\u3164")}, "interests[1]"},
		"IPv4 photo":                {auth.ProfilePatch{PhotoURLs: list("https://127.0.0.1/a.jpg")}, "photoUrls[0]"},
		"IPv6 photo":                {auth.ProfilePatch{PhotoURLs: list("https://[::1]/a.jpg")}, "photoUrls[0]"},
		"localhost photo":           {auth.ProfilePatch{PhotoURLs: list("https://localhost/a.jpg")}, "photoUrls[0]"},
		"sub.localhost photo":       {auth.ProfilePatch{PhotoURLs: list("https://x.localhost/a.jpg")}, "photoUrls[0]"},
		"single-label photo":        {auth.ProfilePatch{PhotoURLs: list("https://intranet/a.jpg")}, "photoUrls[0]"},
		"photo URL with a space":    {auth.ProfilePatch{PhotoURLs: list("https://x.example/a b.jpg")}, "photoUrls[0]"},
		"photo URL with a NBSP":     {auth.ProfilePatch{PhotoURLs: list("https://x.example/a\u00a0b.jpg")}, "photoUrls[0]"},
		"photo URL with a newline":  {auth.ProfilePatch{PhotoURLs: list("https://x.example/a.jpg\n")}, "photoUrls[0]"},
		"photo URL with user info":  {auth.ProfilePatch{PhotoURLs: list("https://u@x.example/a.jpg")}, "photoUrls[0]"},
		"photo URL with a port":     {auth.ProfilePatch{PhotoURLs: list("https://x.example:8443/a.jpg")}, "photoUrls[0]"},
		"photo URL with a bad %":    {auth.ProfilePatch{PhotoURLs: list("https://x.example/%zz")}, "photoUrls[0]"},
		"photo URL with backslash":  {auth.ProfilePatch{PhotoURLs: list(`https://x.example\@evil.example/a.jpg`)}, "photoUrls[0]"},
		"upper-case scheme":         {auth.ProfilePatch{PhotoURLs: list("HTTPS://x.example/a.jpg")}, "photoUrls[0]"},
		"second photo is localhost": {auth.ProfilePatch{PhotoURLs: list("https://x.example/a.jpg", "https://localhost./a.jpg")}, "photoUrls[1]"},
	}
	for name, c := range bad {
		_, err := c.patch.Normalize()
		if !errors.Is(err, auth.ErrInvalidProfile) {
			t.Errorf("%s: %v, want ErrInvalidProfile", name, err)
			continue
		}
		if msg := rv.AsError(err).Message; !strings.HasPrefix(msg, c.field+" ") {
			t.Errorf("%s: message %q does not start with the field %s", name, msg, c.field)
		}
	}
	for _, name := range []string{"👩\u200d👩\u200d👧", "🇫🇷", "Jos\u00e9", "Jose\u0301", "李小龍", "Владимир", "می\u200cخواهم", "  Zoë ✨  "} {
		if _, err := (auth.ProfilePatch{DisplayName: &name}).Normalize(); err != nil {
			t.Errorf("display name %+q: %v", name, err)
		}
	}
	for _, u := range []string{"https://cdn.example.com/a.jpg", "https://xn--bcher-kva.example/caf%C3%A9.jpg?w=200#top"} {
		if _, err := (auth.ProfilePatch{PhotoURLs: list(u)}).Normalize(); err != nil {
			t.Errorf("photo %q: %v", u, err)
		}
	}
}

// TestIdentifierMessagesQuoteAShortPrefix: an invalid email is quoted in
// the message only up to 64 bytes.
func TestIdentifierMessagesQuoteAShortPrefix(t *testing.T) {
	long := strings.Repeat("z", 200) + "@@example.com"
	_, err := auth.NormalizeEmail(long)
	if !errors.Is(err, auth.ErrInvalidEmail) {
		t.Fatal(err)
	}
	if msg := rv.AsError(err).Message; strings.Contains(msg, strings.Repeat("z", 65)) {
		t.Errorf("the message %q echoes more than 64 bytes of the input", msg)
	}
	list := []string{strings.Repeat("y", 30), strings.Repeat("Y", 30)}
	_, err = auth.ProfilePatch{Interests: &list}.Normalize()
	if !errors.Is(err, auth.ErrInvalidProfile) || len(rv.AsError(err).Message) > 150 {
		t.Errorf("repeated interest: %v", err)
	}
}
