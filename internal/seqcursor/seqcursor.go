// Package seqcursor encodes the opaque pagination cursors that carry a
// sequence number: base64url of a version prefix and the decimal number,
// so that a client cannot mistake a cursor of one list for another's.
package seqcursor

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// maxDecoded bounds the decoded length of a cursor.
const maxDecoded = 32

// Encode returns the cursor of seq under prefix (such as "t1.").
func Encode(prefix string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(seq, 10)))
}

// Decode returns the sequence number of a cursor Encode made with prefix:
// 0 and true for the empty cursor, false for any string Encode cannot have
// made (another prefix, a number below 1 or not in its canonical form).
func Decode(prefix, cursor string) (int64, bool) {
	if cursor == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) > maxDecoded {
		return 0, false
	}
	digits, ok := strings.CutPrefix(string(b), prefix)
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || seq < 1 || strconv.FormatInt(seq, 10) != digits {
		return 0, false
	}
	return seq, true
}
