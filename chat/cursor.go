package chat

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/seqcursor"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

// Prefixes version the cursor formats and keep the two kinds apart.
const (
	matchCursorPrefix   = "m1."
	messageCursorPrefix = "s1."
)

// encodeMatchCursor returns the opaque cursor of the matches after c:
// base64url of "m1.<unix nanoseconds>.<match id>".
func encodeMatchCursor(c MatchCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(matchCursorPrefix + strconv.FormatInt(c.LastActivity.UnixNano(), 10) + "." + c.ID))
}

// decodeMatchCursor returns the position a cursor of encodeMatchCursor
// holds: nil for the empty cursor, ErrInvalidCursor for any other string.
func decodeMatchCursor(s string) (*MatchCursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 80 {
		return nil, ErrInvalidCursor
	}
	rest, ok := strings.CutPrefix(string(b), matchCursorPrefix)
	if !ok {
		return nil, ErrInvalidCursor
	}
	digits, id, ok := strings.Cut(rest, ".")
	if !ok || !uuid.Valid(id) {
		return nil, ErrInvalidCursor
	}
	ns, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || strconv.FormatInt(ns, 10) != digits {
		return nil, ErrInvalidCursor
	}
	return &MatchCursor{LastActivity: time.Unix(0, ns).UTC(), ID: id}, nil
}

// encodeMessageCursor returns the opaque cursor of the messages beside Seq
// seq.
func encodeMessageCursor(seq int64) string { return seqcursor.Encode(messageCursorPrefix, seq) }

// decodeMessageCursor returns the Seq a cursor of encodeMessageCursor
// holds: 0 for the empty cursor, ErrInvalidCursor for any other string.
func decodeMessageCursor(s string) (int64, error) {
	seq, ok := seqcursor.Decode(messageCursorPrefix, s)
	if !ok {
		return 0, ErrInvalidCursor
	}
	return seq, nil
}
