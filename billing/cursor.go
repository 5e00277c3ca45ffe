package billing

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// cursorPrefix versions the cursor format.
const cursorPrefix = "t1."

// encodeCursor returns the opaque cursor of the page that follows the
// transaction of sequence number seq.
func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10)))
}

// decodeCursor returns the sequence number a cursor points below: 0 for
// the empty cursor.
func decodeCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) > 32 {
		return 0, ErrInvalidCursor
	}
	digits, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, ErrInvalidCursor
	}
	seq, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || seq < 1 || strconv.FormatInt(seq, 10) != digits {
		return 0, ErrInvalidCursor
	}
	return seq, nil
}
