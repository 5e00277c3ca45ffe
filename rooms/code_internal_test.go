package rooms

import (
	"strings"
	"testing"
)

// Codes use only the alphabet, at the configured length, and every symbol
// turns up: the rejection sampling keeps no symbol out.
func TestNewCodeDrawsFromTheAlphabet(t *testing.T) {
	s := &Service{cfg: Config{CodeLength: 6}, alphabet: []rune("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")}
	seen := map[rune]int{}
	for range 2000 {
		c := s.newCode()
		if len(c) != 6 {
			t.Fatalf("code %q: length %d", c, len(c))
		}
		for _, r := range c {
			if !strings.ContainsRune(string(s.alphabet), r) {
				t.Fatalf("code %q: %q is not in the alphabet", c, r)
			}
			seen[r]++
		}
	}
	for _, r := range s.alphabet {
		if seen[r] == 0 {
			t.Errorf("symbol %q never drawn in 12,000 draws", r)
		}
	}
}
