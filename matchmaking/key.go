package matchmaking

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// NormalizeRegion trims and lower-cases region and returns it, or
// ErrInvalidRegion unless the result is 1 to MaxRegionLen characters of
// a-z, 0-9, _ and -.
func NormalizeRegion(region string) (string, error) {
	r := strings.ToLower(strings.TrimSpace(region))
	if r == "" || len(r) > MaxRegionLen {
		return "", ErrInvalidRegion
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return "", ErrInvalidRegion
		}
	}
	return r, nil
}

// CanonicalPreferences returns the canonical JSON of preferences: the
// object with its keys sorted, no whitespace, strings re-encoded without
// HTML escaping, and numbers exactly as written (1 and 1.0 are different
// preferences, so they make different queue keys). Absent, empty or null
// preferences are no preferences: {}. Anything but an object of at most
// MaxPreferenceKeys keys whose values are strings, numbers, booleans or
// arrays of strings, or a result over MaxPreferencesBytes, is
// ErrInvalidPreferences. Arrays keep their order.
func CanonicalPreferences(preferences json.RawMessage) ([]byte, error) {
	raw := bytes.TrimSpace(preferences)
	if len(raw) == 0 || string(raw) == "null" {
		return []byte("{}"), nil
	}
	if len(raw) > 16*MaxPreferencesBytes {
		return nil, ErrInvalidPreferences
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, ErrInvalidPreferences
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, ErrInvalidPreferences // trailing data
	}
	if len(obj) > MaxPreferenceKeys {
		return nil, ErrInvalidPreferences
	}
	for _, v := range obj {
		switch v := v.(type) {
		case string, json.Number, bool:
		case []any:
			for _, item := range v {
				if _, ok := item.(string); !ok {
					return nil, ErrInvalidPreferences
				}
			}
		default: // null, nested objects
			return nil, ErrInvalidPreferences
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil { // map keys come sorted
		return nil, ErrInvalidPreferences
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(out) > MaxPreferencesBytes {
		return nil, ErrInvalidPreferences
	}
	return out, nil
}

// QueueKey returns the queue of region and preferences:
// "<region>:<the first 12 hex digits of the SHA-256 of the canonical
// preferences>", so preferences that differ only in key order or spacing
// share a queue. It returns ErrInvalidRegion or ErrInvalidPreferences as
// NormalizeRegion and CanonicalPreferences do.
func QueueKey(region string, preferences json.RawMessage) (string, error) {
	r, err := NormalizeRegion(region)
	if err != nil {
		return "", err
	}
	canon, err := CanonicalPreferences(preferences)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return r + ":" + hex.EncodeToString(sum[:6]), nil
}
