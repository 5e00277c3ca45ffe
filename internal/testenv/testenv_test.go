package testenv_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rendezvous-go/rendezvous/internal/testenv"
)

func TestRequireIntegration(t *testing.T) {
	for value, want := range map[string]bool{"": false, "0": false, "false": false, "yes": false, "1": true, "true": true, "TRUE": true} {
		t.Setenv(testenv.EnvRequireIntegration, value)
		if got := testenv.RequireIntegration(); got != want {
			t.Errorf("RequireIntegration() with %q = %v, want %v", value, got, want)
		}
	}
}

func TestRedisIsolatesAndCleansUp(t *testing.T) {
	testenv.RedisURL(t) // skip early when there is no Redis
	ctx := context.Background()
	var prefixes []string
	for range 2 {
		t.Run("test", func(t *testing.T) {
			client, prefix := testenv.Redis(t)
			if !strings.HasPrefix(prefix, "rvtest:") || !strings.HasSuffix(prefix, ":") {
				t.Errorf("prefix = %q", prefix)
			}
			for _, k := range []string{"a", "b", "{tag}:c"} {
				if err := client.Set(ctx, prefix+k, "v", 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			prefixes = append(prefixes, prefix)
		})
	}
	if len(prefixes) != 2 || prefixes[0] == prefixes[1] {
		t.Fatalf("prefixes = %q, want two different ones", prefixes)
	}
	client, _ := testenv.Redis(t)
	for _, p := range prefixes {
		keys, err := client.Keys(ctx, p+"*").Result()
		if err != nil || len(keys) != 0 {
			t.Errorf("keys left under %q after the test: %v, %v", p, keys, err)
		}
	}
}

// TestMissingServer runs TestHelperMissingServer in a child process that
// has neither a Redis URL nor a Docker engine, and checks that it skips,
// or fails when integration tests are required.
func TestMissingServer(t *testing.T) {
	if os.Getenv("TESTENV_HELPER") == "1" {
		t.Skip("helper process")
	}
	for _, require := range []string{"", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMissingServer$", "-test.v")
		cmd.Env = append(withoutEnv(testenv.EnvRedisURL, testenv.EnvDatabaseURL, testenv.EnvRequireIntegration, "DOCKER_HOST"),
			"TESTENV_HELPER=1",
			"DOCKER_HOST=unix:///nonexistent/docker.sock",
			testenv.EnvRequireIntegration+"="+require,
		)
		out, err := cmd.CombinedOutput()
		switch {
		case require == "" && (err != nil || !strings.Contains(string(out), "--- SKIP: TestHelperMissingServer")):
			t.Errorf("without %s: err %v, output:\n%s\nwant a skip", testenv.EnvRequireIntegration, err, out)
		case require == "1" && (err == nil || !strings.Contains(string(out), "--- FAIL: TestHelperMissingServer")):
			t.Errorf("with %s=1: err %v, output:\n%s\nwant a failure", testenv.EnvRequireIntegration, err, out)
		}
	}
}

func TestHelperMissingServer(t *testing.T) {
	if os.Getenv("TESTENV_HELPER") != "1" {
		t.Skip("run by TestMissingServer")
	}
	testenv.RedisURL(t)
	t.Error("RedisURL returned without a server")
}

func withoutEnv(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || name == n
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return env
}
