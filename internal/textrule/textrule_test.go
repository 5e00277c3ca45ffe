package textrule_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rendezvous-go/rendezvous/internal/textrule"
)

func TestDisplayNameAccepts(t *testing.T) {
	rule := textrule.DisplayName{Min: 1, Max: 32}
	for name, c := range map[string]struct{ in, want string }{
		"ASCII":                     {"Alice", "Alice"},
		"trimmed":                   {"  Bob \t", "Bob"},
		"trimmed Unicode spaces":    {"\u3000\u00a0Carol\u2003\u2028", "Carol"},
		"inner space":               {"Jean Luc", "Jean Luc"},
		"ideographic space inside":  {"佐藤\u3000太郎", "佐藤\u3000太郎"},
		"punctuation":               {"Mary-Jane O’Neil", "Mary-Jane O’Neil"},
		"apostrophe":                {"O'Brien", "O'Brien"},
		"digits and underscore":     {"DJ_X 2000", "DJ_X 2000"},
		"punctuation only":          {"...", "..."},
		"é composed":                {"Jos\u00e9", "Jos\u00e9"},
		"é decomposed":              {"Jose\u0301", "Jose\u0301"},
		"Vietnamese":                {"Nguyễn Văn An", "Nguyễn Văn An"},
		"Polish":                    {"Łukasz", "Łukasz"},
		"Czech":                     {"Dvořák", "Dvořák"},
		"Icelandic":                 {"Ólafur Þór", "Ólafur Þór"},
		"Cyrillic":                  {"Владимир", "Владимир"},
		"Greek":                     {"Ελένη", "Ελένη"},
		"Armenian":                  {"Արամ", "Արամ"},
		"Georgian":                  {"ნინო", "ნინო"},
		"Arabic":                    {"محمد", "محمد"},
		"Hebrew":                    {"שרה", "שרה"},
		"Persian with ZWNJ":         {"می\u200cخواهم", "می\u200cخواهم"},
		"Devanagari":                {"राहुल", "राहुल"},
		"Devanagari with ZWJ":       {"क्\u200dष", "क्\u200dष"},
		"Tamil":                     {"தமிழ்", "தமிழ்"},
		"Thai":                      {"สมชาย", "สมชาย"},
		"Lao":                       {"ສົມ", "ສົມ"},
		"Ethiopic":                  {"ሰላም", "ሰላም"},
		"Chinese":                   {"李小龍", "李小龍"},
		"Korean":                    {"김민준", "김민준"},
		"Japanese kana":             {"さくら", "さくら"},
		"emoji":                     {"🙂", "🙂"},
		"emoji and text":            {"Ana 🌸", "Ana 🌸"},
		"family ZWJ sequence":       {"👩\u200d👩\u200d👧", "👩\u200d👩\u200d👧"},
		"skin tone and ZWJ":         {"🧑🏽\u200d💻", "🧑🏽\u200d💻"},
		"flag":                      {"🇫🇷", "🇫🇷"},
		"rainbow flag (VS and ZWJ)": {"🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"},
		"heart with VS16":           {"❤\ufe0f", "❤\ufe0f"},
		"keycap":                    {"1\ufe0f\u20e3", "1\ufe0f\u20e3"},
		"Scotland tag sequence":     {"🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"},
		"32 characters":             {strings.Repeat("é", 32), strings.Repeat("é", 32)},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := rule.Check(c.in)
			if err != nil || got != c.want {
				t.Fatalf("Check(%+q) = %+q, %v; want %+q", c.in, got, err, c.want)
			}
		})
	}
}

func TestDisplayNameRejects(t *testing.T) {
	rule := textrule.DisplayName{Min: 1, Max: 32}
	for name, in := range map[string]string{
		"empty":                          "",
		"spaces only":                    " \t\u3000 ",
		"too long":                       strings.Repeat("é", 33),
		"too short":                      "",
		"ZWJ alone":                      "\u200d",
		"ZWJ at the end":                 "a\u200d",
		"ZWJ before a space":             "a\u200d b",
		"two ZWJs":                       "👩\u200d\u200d👧",
		"ZWNJ alone":                     "\u200c",
		"Hangul filler":                  "\u3164",
		"Hangul filler inside":           "A\u3164B",
		"Hangul choseong filler":         "\u115f",
		"Hangul jungseong filler":        "\u1160",
		"halfwidth Hangul filler":        "\uffa0",
		"braille blank":                  "\u2800",
		"braille blank beside a letter":  "a\u2800",
		"Mongolian vowel separator":      "a\u180eb",
		"word joiner":                    "a\u2060b",
		"function application":           "a\u2061b",
		"invisible times":                "a\u2062b",
		"invisible separator":            "a\u2063b",
		"invisible plus":                 "a\u2064b",
		"BOM":                            "\ufeffa",
		"zero width space":               "a\u200bb",
		"zero width space alone":         "\u200b",
		"soft hyphen":                    "a\u00adb",
		"right-to-left override":         "\u202eabc",
		"left-to-right isolate":          "a\u2066b",
		"right-to-left mark":             "a\u200fb",
		"combining grapheme joiner":      "a\u034fb",
		"line separator inside":          "a\u2028b",
		"paragraph separator inside":     "a\u2029b",
		"newline inside":                 "a\nb",
		"tab inside":                     "a\tb",
		"NUL":                            "a\x00b",
		"DEL":                            "a\x7fb",
		"C1 control":                     "a\u0085b",
		"escape":                         "a\x1b[31mb",
		"invalid UTF-8":                  "a\xffb",
		"truncated UTF-8":                "abc\xe2\x82",
		"surrogate encoded":              "a\xed\xa0\x80b",
		"replacement character":          "a\ufffdb",
		"object replacement character":   "\ufffc",
		"private use":                    "\ue000",
		"supplementary private use":      "a\U000F0000",
		"unassigned":                     "a\u0378b",
		"noncharacter":                   "a\ufdd0b",
		"noncharacter FFFF":              "a\uffffb",
		"combining mark alone":           "\u0301",
		"combining mark first":           "\u0301a",
		"variation selector alone":       "\ufe0f",
		"variation selector after space": "a \ufe0f",
		"tag without a black flag":       "a\U000E0067\U000E007F",
		"unterminated tag sequence":      "🏴\U000E0067\U000E0062",
		"cancel tag alone":               "\U000E007F",
		"language tag":                   "\U000E0001a",
		"musical invisible formatting":   "a\U0001D173b",
		"Khmer inherent vowel":           "a\u17b4",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := rule.Check(in)
			if err == nil {
				t.Fatalf("Check(%+q) = %+q, accepted", in, got)
			}
			msg := err.Error()
			if !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\n\u200d\u3164") || len(msg) > 120 {
				t.Errorf("message %+q is not a short plain sentence", msg)
			}
		})
	}
}

func TestDisplayNameBounds(t *testing.T) {
	rule := textrule.DisplayName{Min: 3, Max: 5}
	for in, ok := range map[string]bool{"ab": false, "abc": true, "abcde": true, "abcdef": false, " ab ": false, "👩\u200d👧": true} {
		if _, err := rule.Check(in); (err == nil) != ok {
			t.Errorf("Check(%+q) with 3 to 5: %v", in, err)
		}
	}
	if _, err := rule.Check(strings.Repeat("a", 6)); err == nil || !strings.Contains(err.Error(), "3 to 5") {
		t.Errorf("the length message %v does not give the bounds", err)
	}
}

func TestHTTPSURL(t *testing.T) {
	good := []string{
		"https://cdn.example.com/ada.jpg",
		"https://x.example/1.jpg?size=large#top",
		"https://images.example.co.uk/a/b/c%20d.png",
		"https://xn--bcher-kva.example/caf%C3%A9.jpg",
		"https://a-b.c-d.example/~user/photo_1.webp?x=1&y=2;z=(3)*!$'+,",
		"https://example.com",
		"https://x.example/" + strings.Repeat("a", 2048-len("https://x.example/")),
	}
	for _, s := range good {
		if err := textrule.CheckHTTPSURL(s, 2048); err != nil {
			t.Errorf("CheckHTTPSURL(%q): %v", s, err)
		}
	}
	bad := map[string]string{
		"empty":                   "",
		"http":                    "http://x.example/a.jpg",
		"upper-case scheme":       "HTTPS://x.example/a.jpg",
		"relative":                "/a.jpg",
		"scheme-relative":         "//x.example/a.jpg",
		"opaque":                  "https:x.example/a.jpg",
		"javascript":              "javascript:alert(1)",
		"data":                    "data:image/png;base64,AAAA",
		"no host":                 "https:///a.jpg",
		"IPv4 loopback":           "https://127.0.0.1/a.jpg",
		"IPv4 private":            "https://10.0.0.1/a.jpg",
		"IPv4 short form":         "https://127.1/a.jpg",
		"IPv4 as one number":      "https://2130706433/a.jpg",
		"IPv4 in hex":             "https://0x7f.0.0.1/a.jpg",
		"IPv6":                    "https://[::1]/a.jpg",
		"IPv6 mapped":             "https://[::ffff:127.0.0.1]/a.jpg",
		"localhost":               "https://localhost/a.jpg",
		"localhost upper case":    "https://LOCALHOST/a.jpg",
		"sub.localhost":           "https://api.localhost/a.jpg",
		"mDNS":                    "https://printer.local/a.jpg",
		"internal":                "https://metadata.internal/a.jpg",
		"single label":            "https://intranet/a.jpg",
		"trailing dot":            "https://x.example./a.jpg",
		"empty label":             "https://x..example/a.jpg",
		"label with underscore":   "https://a_b.example/a.jpg",
		"label starting with -":   "https://-a.example/a.jpg",
		"long label":              "https://" + strings.Repeat("a", 64) + ".example/a.jpg",
		"credentials":             "https://user:pw@x.example/a.jpg",
		"user only":               "https://user@x.example/a.jpg",
		"empty user info":         "https://@x.example/a.jpg",
		"port":                    "https://x.example:8443/a.jpg",
		"empty port":              "https://x.example:/a.jpg",
		"space":                   "https://x.example/a b.jpg",
		"leading space":           " https://x.example/a.jpg",
		"trailing newline":        "https://x.example/a.jpg\n",
		"tab":                     "https://x.example/a\t.jpg",
		"NUL":                     "https://x.example/a\x00.jpg",
		"NBSP":                    "https://x.example/a\u00a0.jpg",
		"ideographic space":       "https://x.example/a\u3000.jpg",
		"non-ASCII host":          "https://bücher.example/a.jpg",
		"non-ASCII path":          "https://x.example/café.jpg",
		"backslash":               "https://x.example\\@evil.example/a.jpg",
		"angle brackets":          "https://x.example/<script>.jpg",
		"quote":                   "https://x.example/a\".jpg",
		"bad escape":              "https://x.example/a%zz.jpg",
		"truncated escape":        "https://x.example/a%2",
		"bad escape in the query": "https://x.example/a.jpg?x=%g0",
		"two fragments":           "https://x.example/a.jpg#a#b",
		"too long":                "https://x.example/" + strings.Repeat("a", 2048),
	}
	for name, s := range bad {
		if err := textrule.CheckHTTPSURL(s, 2048); err == nil {
			t.Errorf("%s: CheckHTTPSURL(%q) accepted", name, s)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := textrule.Quote("abc"); got != `"abc"` {
		t.Errorf("Quote(abc) = %s", got)
	}
	long := strings.Repeat("é", 100) // 200 bytes
	got := textrule.Quote(long)
	if !strings.HasSuffix(got, `…"`) || strings.Count(got, "é") != textrule.MaxQuoted/2 {
		t.Errorf("Quote of 200 bytes = %s, want the first %d bytes and an ellipsis", got, textrule.MaxQuoted)
	}
	if got := textrule.Quote("a\nb\u202e"); got != `"a\nb\u202e"` {
		t.Errorf("Quote escapes = %s", got)
	}
	if got := textrule.Quote("\xff\xfe"); !utf8.ValidString(got) {
		t.Errorf("Quote of invalid UTF-8 = %q", got)
	}
}
