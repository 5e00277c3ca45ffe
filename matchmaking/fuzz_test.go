package matchmaking_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/rendezvous-go/rendezvous/matchmaking"
)

// FuzzQueueKey: any region and preferences give a key or one of the two
// 400 errors, never a panic; the canonical form is canonical (a fixed
// point) and names the same queue as the input.
func FuzzQueueKey(f *testing.F) {
	for _, seed := range [][2]string{
		{"eu", `{"a":1,"b":2}`}, {" EU ", `{"b":2,"a":1}`}, {"us", ""}, {"x", "null"},
		{"eu", `{"l":["a","b"],"n":1.50,"t":true}`}, {"eu", `{"a":{"b":1}}`}, {"eu", `[1]`},
		{"é", `{}`}, {"eu", `{"a":"\u003c\u0000"}`}, {"eu", `{"a":1}garbage`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, region, prefs string) {
		key, err := matchmaking.QueueKey(region, json.RawMessage(prefs))
		if err != nil {
			if !errors.Is(err, matchmaking.ErrInvalidRegion) && !errors.Is(err, matchmaking.ErrInvalidPreferences) {
				t.Fatalf("QueueKey(%q, %q): %v", region, prefs, err)
			}
			return
		}
		canon, err := matchmaking.CanonicalPreferences(json.RawMessage(prefs))
		if err != nil {
			t.Fatalf("QueueKey accepted %q but CanonicalPreferences: %v", prefs, err)
		}
		again, err := matchmaking.CanonicalPreferences(canon)
		if err != nil || string(again) != string(canon) {
			t.Fatalf("canonical %s is not a fixed point: %s, %v", canon, again, err)
		}
		if k, err := matchmaking.QueueKey(region, canon); err != nil || k != key {
			t.Fatalf("the canonical form names %s, %v; the input %s", k, err, key)
		}
	})
}
