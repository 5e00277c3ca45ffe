package main

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// errorCode is the code of an error body ("" when there is none).
func errorCode(body string) string {
	var e struct{ Code string }
	_ = json.Unmarshal([]byte(body), &e)
	return e.Code
}

// With Redis stopped (SIGSTOP), the routes backed by PostgreSQL still
// answer: the logout-all cut-off lives in Redis, and access-token checks
// fail open with a WARN rather than taking /users/me and /tokens/balance
// down. A logout-all during the outage answers 503 STORE_UNAVAILABLE and
// still holds on the instance that made it.
func TestProcessRedisOutageKeepsAccountRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	redis := startRedisServer(t)
	srv := startProcess(t, "outage-accounts", map[string]string{
		"REDIS_URL": "redis://" + redis.addr + "/0", "DATABASE_URL": schemaURL(t),
		"REDIS_COMMAND_TIMEOUT": "1000", "REDIS_BREAKER_FAILURES": "5", "REDIS_BREAKER_COOLDOWN_MS": "1000",
		"THROTTLE_LIMIT": "1000",
	})

	token := authedSignup(t, srv.base)
	for _, path := range []string{"/users/me", "/tokens/balance"} {
		if a := authed(t, "GET", srv.base+path, token, ""); a.status != 200 {
			t.Fatalf("GET %s with Redis up: %d %s", path, a.status, a.body)
		}
	}

	redis.signal(t, syscall.SIGSTOP)
	var took []string
	for range 3 {
		for _, path := range []string{"/users/me", "/tokens/balance"} {
			began := time.Now()
			a := authed(t, "GET", srv.base+path, token, "")
			took = append(took, path+" "+time.Since(began).Round(time.Millisecond).String())
			if a.status != 200 {
				t.Fatalf("GET %s with Redis stopped: %d %s, want 200", path, a.status, a.body)
			}
		}
	}
	t.Logf("with Redis stopped (SIGSTOP), command timeout 1 s: %s", strings.Join(took, ", "))
	if _, ok := srv.waitLog(30*time.Second, func(l map[string]any) bool {
		m, _ := l["msg"].(string)
		return l["level"] == "WARN" && strings.Contains(m, "cut-off store failed")
	}); !ok {
		t.Fatal("no WARN about the cut-off store failing open")
	}

	a := authed(t, "POST", srv.base+"/auth/logout-all", token, "")
	if a.status != 503 || errorCode(a.body) != "STORE_UNAVAILABLE" {
		t.Fatalf("logout-all with Redis stopped: %d %s, want 503 STORE_UNAVAILABLE", a.status, a.body)
	}
	if a := authed(t, "GET", srv.base+"/users/me", token, ""); a.status != 401 {
		t.Fatalf("GET /users/me after a logout-all during the outage: %d %s, want 401", a.status, a.body)
	}
}
