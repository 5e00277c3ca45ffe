package main

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
)

// TestRoomExpiryAnnounced runs the server with a one-second room TTL, in
// memory and over Redis: a connected member gets room:closed EXPIRED from
// the scheduler the server runs, and is disconnected.
func TestRoomExpiryAnnounced(t *testing.T) {
	for _, backend := range []string{"memory", "redis"} {
		t.Run(backend, func(t *testing.T) {
			// The room must not expire before the socket connects: on a
			// loaded machine that can take long, so the TTL grows until
			// the socket gets in first.
			var c *siotest.Client
			for ttl := 1; c == nil; ttl *= 2 {
				if ttl > 64 {
					t.Fatal("the room expired before its socket could connect, even with a 64 s TTL")
				}
				c = expiringMember(t, backend, ttl)
			}
			const wait = 20 * time.Second
			raw, err := c.WaitEvent("/rooms", "room:closed", wait)
			if err != nil {
				t.Fatal(err)
			}
			var closed struct{ Reason string }
			if err := json.Unmarshal(raw, &closed); err != nil || closed.Reason != "EXPIRED" {
				t.Fatalf("room:closed %s, want reason EXPIRED", raw)
			}
			if err := c.WaitDisconnect("/rooms", wait); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// expiringMember starts a server with a room TTL of ttl seconds, creates a
// room and connects its host's socket, or returns nil if the room expired
// first.
func expiringMember(t *testing.T, backend string, ttl int) *siotest.Client {
	t.Helper()
	vars := map[string]string{"ROOM_TTL_SECONDS": strconv.Itoa(ttl)}
	if backend == "redis" {
		_, prefix := testenv.Redis(t)
		vars["REDIS_URL"], vars["REDIS_PREFIX"] = testenv.RedisURL(t), prefix
	}
	base, _ := start(t, vars)
	res, body := post(t, base+"/rooms", `{"displayName":"Host"}`)
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var tk struct{ Token string }
	if err := json.Unmarshal(body, &tk); err != nil {
		t.Fatal(err)
	}
	c, err := siotest.Dial(context.Background(), base, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p, err := c.Connect("/rooms", map[string]string{"token": tk.Token}, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != 0 {
		return nil // refused: the room or its token expired before the connect
	}
	return c
}
