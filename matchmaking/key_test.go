package matchmaking_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/rendezvous-go/rendezvous/matchmaking"
)

func TestQueueKey(t *testing.T) {
	key := func(region, prefs string) string {
		t.Helper()
		var raw json.RawMessage
		if prefs != "<absent>" {
			raw = json.RawMessage(prefs)
		}
		k, err := matchmaking.QueueKey(region, raw)
		if err != nil {
			t.Fatalf("QueueKey(%q, %s): %v", region, prefs, err)
		}
		return k
	}
	base := key("eu", `{"a":1,"b":2}`)
	if !regexp.MustCompile(`^eu:[0-9a-f]{12}$`).MatchString(base) {
		t.Fatalf("key %q is not <region>:<12 hex digits>", base)
	}
	for _, same := range []string{`{"b":2,"a":1}`, " {\n \"a\" : 1 , \"b\":2 }\t"} {
		if k := key("eu", same); k != base {
			t.Errorf("%s has key %s, want %s", same, k, base)
		}
	}
	if k := key("  EU ", `{"a":1,"b":2}`); k != base {
		t.Errorf("region ' EU ' has key %s, want %s", k, base)
	}
	none := key("eu", "<absent>")
	for _, p := range []string{"", "null", " null ", "{}", "  "} {
		if k := key("eu", p); k != none {
			t.Errorf("%q has key %s, want the no-preferences key %s", p, k, none)
		}
	}
	// Numbers are compared as written.
	if key("eu", `{"a":1}`) == key("eu", `{"a":1.0}`) {
		t.Error(`{"a":1} and {"a":1.0} share a key; numbers are kept as written`)
	}
	// Arrays keep their order; strings, booleans and arrays of strings
	// are accepted.
	if key("eu", `{"l":["x","y"]}`) == key("eu", `{"l":["y","x"]}`) {
		t.Error("arrays in another order share a key")
	}
	distinct := map[string]string{}
	for _, p := range []string{`{"a":"1"}`, `{"a":1}`, `{"a":true}`, `{"a":["1"]}`, `{"a":[]}`, `{"b":1}`, `{"a":"<&>"}`} {
		k := key("eu", p)
		if other, ok := distinct[k]; ok {
			t.Errorf("%s and %s share key %s", p, other, k)
		}
		distinct[k] = p
	}
	if key("us", `{}`) == none {
		t.Error("regions share a key")
	}
	// The canonical form is what the key hashes.
	canon, err := matchmaking.CanonicalPreferences(json.RawMessage(`{ "z": ["b","a"], "a": "<&>", "m": 1.50, "k": false }`))
	if err != nil || string(canon) != `{"a":"<&>","k":false,"m":1.50,"z":["b","a"]}` {
		t.Errorf("canonical = %s, %v", canon, err)
	}

	many := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`"k%d":%d`, i, i))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	key("eu", many(matchmaking.MaxPreferenceKeys))
	for _, bad := range []string{
		`[]`, `"x"`, `1`, `true`, `{"a":null}`, `{"a":{"b":1}}`, `{"a":[1]}`, `{"a":["x",null]}`, `{"a":[["x"]]}`,
		`{"a":1`, `{"a":1}{}`, `{"a":1} x`, `nul`, many(matchmaking.MaxPreferenceKeys + 1),
		`{"a":"` + strings.Repeat("x", matchmaking.MaxPreferencesBytes) + `"}`,
	} {
		if _, err := matchmaking.QueueKey("eu", json.RawMessage(bad)); !errors.Is(err, matchmaking.ErrInvalidPreferences) {
			t.Errorf("preferences %.40s: %v, want ErrInvalidPreferences", bad, err)
		}
	}
	for _, bad := range []string{"", "   ", "e u", "eu!", "é", strings.Repeat("a", matchmaking.MaxRegionLen+1), "eu:x", "eu{q}"} {
		if _, err := matchmaking.QueueKey(bad, nil); !errors.Is(err, matchmaking.ErrInvalidRegion) {
			t.Errorf("region %q: %v, want ErrInvalidRegion", bad, err)
		}
	}
	key(strings.Repeat("a", matchmaking.MaxRegionLen), "")
	key("us-east_1", "")
}
