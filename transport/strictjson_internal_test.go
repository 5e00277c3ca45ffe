package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// dupKeys reports, with encoding/json's tokenizer, whether some object of
// the valid JSON data repeats a key.
func dupKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, _ := dec.Token()
				if seen[k.(string)] {
					return true
				}
				seen[k.(string)] = true
				if walk() {
					return true
				}
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if walk() {
					return true
				}
			}
			_, _ = dec.Token()
		}
		return false
	}
	return walk()
}

// The strict scan agrees with encoding/json: on valid JSON it refuses
// exactly the invalid UTF-8, the lone surrogates and the duplicate keys.
func FuzzCheckStrict(f *testing.F) {
	for _, seed := range []string{
		`{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":[1,{"c":1,"c":2}]}}`, `[{"x":"\ud83d\ude00"}]`,
		`"\ud800"`, "\"\xff\"", `{"k\u0061":1,"ka":2}`, `{`, `[1,2`, `nul`, ` {"a" : [ ] } `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkStrict(data, nil)
		if !json.Valid(data) {
			return
		}
		if _, err := json.NewDecoder(bytes.NewReader(data)).Token(); errors.Is(err, io.EOF) {
			return
		}
		surrogate := strings.Contains(strings.ToLower(string(data)), `\ud`)
		bad := !utf8.Valid(data) || dupKeys(data)
		switch {
		case err == errMalformed:
			t.Fatalf("valid JSON %q called malformed", data)
		case err == nil && bad:
			t.Fatalf("%q accepted: invalid UTF-8 or a duplicate key", data)
		case err != nil && !bad && !surrogate:
			t.Fatalf("%q refused: %v", data, err)
		}
	})
}
