package textrule

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Violation is the error of a text that breaks a rule. Its message is a
// sentence fragment that follows the field's name ("displayName must …"),
// safe to show to clients: it names offending characters by code point
// and never echoes the text.
type Violation struct {
	msg string
}

// Error returns the fragment, such as "must be 1 to 32 characters long".
func (v *Violation) Error() string { return v.msg }

func violation(format string, args ...any) *Violation {
	return &Violation{msg: fmt.Sprintf(format, args...)}
}

// DisplayName is the display-name rule (see the package documentation),
// with its length bounds.
type DisplayName struct {
	// Min and Max bound the length in characters (code points) after
	// trimming. A Min below 1 counts as 1.
	Min, Max int
}

// Characters that Unicode assigns a visible category (letter, symbol) but
// that render as nothing, or stand for lost data. The default-ignorable
// ones among them are also in unicode.Other_Default_Ignorable_Code_Point;
// they are listed so that the rule does not depend on that table alone.
var invisible = map[rune]bool{
	'\u115F': true, // HANGUL CHOSEONG FILLER
	'\u1160': true, // HANGUL JUNGSEONG FILLER
	'\u3164': true, // HANGUL FILLER
	'\uFFA0': true, // HALFWIDTH HANGUL FILLER
	'\u2800': true, // BRAILLE PATTERN BLANK
	'\u180E': true, // MONGOLIAN VOWEL SEPARATOR
	'\u2060': true, // WORD JOINER
	'\u2061': true, // FUNCTION APPLICATION
	'\u2062': true, // INVISIBLE TIMES
	'\u2063': true, // INVISIBLE SEPARATOR
	'\u2064': true, // INVISIBLE PLUS
	'\uFEFF': true, // ZERO WIDTH NO-BREAK SPACE (byte order mark)
	'\u034F': true, // COMBINING GRAPHEME JOINER
	'\u17B4': true, // KHMER VOWEL INHERENT AQ
	'\u17B5': true, // KHMER VOWEL INHERENT AA
	'\uFFFC': true, // OBJECT REPLACEMENT CHARACTER
	'\uFFFD': true, // REPLACEMENT CHARACTER
}

const (
	zwnj        = '\u200C'
	zwj         = '\u200D'
	blackFlag   = '\U0001F3F4'
	tagFirst    = '\U000E0020'
	tagLast     = '\U000E007E'
	tagCancel   = '\U000E007F'
	replacement = utf8.RuneError
)

// Check trims name of white space and returns it if it follows the rule;
// otherwise it returns a *Violation.
func (r DisplayName) Check(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", violation("must be valid UTF-8")
	}
	name = strings.TrimFunc(name, unicode.IsSpace)
	lo := max(r.Min, 1)
	if n := utf8.RuneCountInString(name); n < lo || n > r.Max {
		return "", violation("must be %d to %d characters long", lo, r.Max)
	}
	if err := checkCharacters(name); err != nil {
		return "", err
	}
	return name, nil
}

// checkCharacters applies the character rules to a trimmed name.
func checkCharacters(name string) error {
	runes := []rune(name)
	visible := false
	// inCluster tells whether the previous character belongs to a visible
	// character's sequence, so that a mark, a variation selector or a
	// joiner may follow it.
	inCluster := false
	inTags := false // within an emoji tag sequence after a black flag
	for i, c := range runes {
		var next rune = -1
		if i+1 < len(runes) {
			next = runes[i+1]
		}
		if inTags {
			switch {
			case c >= tagFirst && c <= tagLast:
				continue
			case c == tagCancel:
				inTags = false
				continue
			}
			return violation("must not contain an unterminated emoji tag sequence")
		}
		switch {
		case c == replacement:
			return violation("must be valid text (it holds U+FFFD, the mark of invalid UTF-8)")
		case invisible[c] || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, c):
			return violation("must not contain the invisible character U+%04X", c)
		case unicode.Is(unicode.Cc, c):
			return violation("must not contain control characters")
		case unicode.In(c, unicode.Zl, unicode.Zp):
			return violation("must not contain line or paragraph separators")
		case unicode.Is(unicode.Co, c):
			return violation("must not contain private-use characters")
		case unicode.Is(unicode.Cs, c) || !assigned(c) || isNoncharacter(c):
			return violation("must not contain unassigned characters (U+%04X)", c)
		case c == zwj || c == zwnj:
			if !inCluster || !isVisible(next) {
				return violation("must not contain a zero-width joiner (U+%04X) outside an emoji or script sequence", c)
			}
			inCluster = false // the next character must be visible
		case c >= tagFirst && c <= tagCancel:
			if i == 0 || runes[i-1] != blackFlag || c == tagCancel {
				return violation("must not contain emoji tag characters outside a flag sequence")
			}
			inTags = true
		case unicode.Is(unicode.Cf, c):
			return violation("must not contain invisible formatting characters (U+%04X)", c)
		case unicode.Is(unicode.Variation_Selector, c) || unicode.Is(unicode.M, c):
			if !inCluster {
				return violation("must not contain a combining mark or variation selector without a character before it (U+%04X)", c)
			}
		case unicode.Is(unicode.Zs, c):
			inCluster = false
		case isVisible(c):
			visible = true
			inCluster = true
		default:
			return violation("must not contain U+%04X", c)
		}
	}
	if inTags {
		return violation("must not contain an unterminated emoji tag sequence")
	}
	if !visible {
		return violation("must contain at least one visible character")
	}
	return nil
}

// isVisible reports whether c is a letter, number, punctuation mark or
// symbol that is not one of the invisible ones.
func isVisible(c rune) bool {
	return c >= 0 && unicode.In(c, unicode.L, unicode.N, unicode.P, unicode.S) &&
		!invisible[c] && !unicode.Is(unicode.Other_Default_Ignorable_Code_Point, c)
}

// assigned reports whether c has a general category other than Cn in the
// Go release's Unicode tables.
func assigned(c rune) bool {
	return unicode.In(c, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

// isNoncharacter reports whether c is one of Unicode's 66 noncharacters.
func isNoncharacter(c rune) bool {
	return c >= 0xFDD0 && c <= 0xFDEF || c&0xFFFE == 0xFFFE
}
