package textrule_test

import (
	"fmt"

	"github.com/rendezvous-go/rendezvous/internal/textrule"
)

func Example() {
	rule := textrule.DisplayName{Min: 1, Max: 32}
	for _, name := range []string{"  Zoë ✨ ", "👩\u200d👩\u200d👧", "\u3164", "\u200d", "a\u2028b"} {
		got, err := rule.Check(name)
		if err != nil {
			fmt.Println("refused: displayName", err)
			continue
		}
		fmt.Printf("accepted: %q\n", got)
	}
	fmt.Println(textrule.CheckHTTPSURL("https://cdn.example.com/a.jpg", 2048))
	fmt.Println("photoUrls[0]", textrule.CheckHTTPSURL("https://127.0.0.1/a.jpg", 2048))
	fmt.Println(textrule.Quote("a very long value that a client sent, much longer than any message should echo back"))
	// Output:
	// accepted: "Zoë ✨"
	// accepted: "👩\u200d👩\u200d👧"
	// refused: displayName must not contain the invisible character U+3164
	// refused: displayName must not contain a zero-width joiner (U+200D) outside an emoji or script sequence
	// refused: displayName must not contain line or paragraph separators
	// <nil>
	// photoUrls[0] must name its host by a DNS name, not an IP address
	// "a very long value that a client sent, much longer than any messa…"
}
