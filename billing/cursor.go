package billing

import "github.com/rendezvous-go/rendezvous/internal/seqcursor"

// cursorPrefix versions the cursor format.
const cursorPrefix = "t1."

// encodeCursor returns the opaque cursor of the page that follows the
// transaction of sequence number seq.
func encodeCursor(seq int64) string { return seqcursor.Encode(cursorPrefix, seq) }

// decodeCursor returns the sequence number a cursor points below: 0 for
// the empty cursor.
func decodeCursor(c string) (int64, error) {
	seq, ok := seqcursor.Decode(cursorPrefix, c)
	if !ok {
		return 0, ErrInvalidCursor
	}
	return seq, nil
}
