// Package textrule holds the rules for the short texts users give each
// other to read, shared by every feature so that one product has one rule:
// display names (package rooms for room members, package auth for
// profiles, which also uses it for interests), the URLs of profile photos,
// and how error messages quote client input.
//
// # Display names
//
// DisplayName.Check accepts a name when it is valid UTF-8 and, once
// trimmed of Unicode white space at both ends, is Min to Max characters
// long (Unicode code points, so "é" decomposed counts 2 and a family emoji
// 5) and holds:
//
//   - no control character (Cc), line separator (Zl) or paragraph
//     separator (Zp); spaces (Zs) are allowed inside;
//   - no format character (Cf), except a zero-width joiner or non-joiner
//     between two parts of a visible sequence (emoji ZWJ sequences,
//     Persian, Indic scripts) and emoji tag characters after a black flag
//     (subdivision flags);
//   - no private-use (Co), surrogate (Cs), unassigned or noncharacter code
//     point, as of the Unicode version of the Go release;
//   - no invisible filler or default-ignorable character: the Hangul
//     fillers U+115F, U+1160, U+3164 and U+FFA0, the braille blank
//     U+2800, U+180E, U+2060–U+2064, U+FEFF, U+034F, U+17B4, U+17B5 and
//     the rest of Unicode's Other_Default_Ignorable_Code_Point, and the
//     replacement characters U+FFFC and U+FFFD (what a JSON decoder puts in
//     place of invalid UTF-8);
//   - combining marks and variation selectors only after a base
//     character;
//   - at least one visible character: a letter, number, punctuation mark
//     or symbol (emoji are symbols).
//
// # Photo URLs
//
// CheckHTTPSURL accepts an absolute URL that starts with "https://", of
// printable ASCII only (no white space, no control or non-ASCII character:
// percent-encode them, and write international domain names in their
// "xn--" form), with valid percent escapes, no user name or password, no
// port, and a DNS host name of at least two labels: no IP address literal,
// no "localhost" or "*.localhost", no single-label host, no special-use
// local names (.local, .internal, .localdomain, .home.arpa, .arpa,
// .invalid). It is a syntactic rule: a public name can still resolve to a
// private address, so whatever fetches these URLs must check where it
// connects.
//
// # Quoting client input
//
// Quote quotes at most MaxQuoted bytes of a client's input, so that an
// error message never echoes a long or hostile value back in full.
package textrule
