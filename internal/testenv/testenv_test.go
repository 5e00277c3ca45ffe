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

// TestMissingServer runs TestHelperMissingServer in a child process whose
// environment has no server URL, for each server and for a program that
// is not installed, and checks that it skips, or fails when integration
// tests are required.
func TestMissingServer(t *testing.T) {
	if os.Getenv("TESTENV_HELPER") != "" {
		t.Skip("helper process")
	}
	for _, server := range []string{"redis", "postgres", "program"} {
		for _, require := range []string{"", "1"} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMissingServer$", "-test.v")
			cmd.Env = append(withoutEnv(testenv.EnvRedisURL, testenv.EnvDatabaseURL, testenv.EnvRequireIntegration),
				"TESTENV_HELPER="+server,
				testenv.EnvRequireIntegration+"="+require,
			)
			out, err := cmd.CombinedOutput()
			switch {
			case require == "" && (err != nil || !strings.Contains(string(out), "--- SKIP: TestHelperMissingServer")):
				t.Errorf("%s without %s: err %v, output:\n%s\nwant a skip", server, testenv.EnvRequireIntegration, err, out)
			case require == "1" && (err == nil || !strings.Contains(string(out), "--- FAIL: TestHelperMissingServer")):
				t.Errorf("%s with %s=1: err %v, output:\n%s\nwant a failure", server, testenv.EnvRequireIntegration, err, out)
			}
		}
	}
}

func TestHelperMissingServer(t *testing.T) {
	switch os.Getenv("TESTENV_HELPER") {
	case "redis":
		testenv.RedisURL(t)
	case "postgres":
		testenv.PostgresURL(t)
	case "program":
		testenv.LookPath(t, "rendezvous-no-such-program")
	default:
		t.Skip("run by TestMissingServer")
	}
	t.Error("returned without a server")
}

func TestLookPathFindsAProgram(t *testing.T) {
	p := testenv.LookPath(t, "sh")
	if out, err := exec.Command(p, "-c", "echo found").Output(); err != nil || strings.TrimSpace(string(out)) != "found" {
		t.Errorf("LookPath(sh) = %q, which does not run: %q, %v", p, out, err)
	}
}

// TestServerURLFromEnv checks that the URLs come from the environment as
// they are.
func TestServerURLFromEnv(t *testing.T) {
	t.Setenv(testenv.EnvRedisURL, "redis://example.invalid:6379/3")
	t.Setenv(testenv.EnvDatabaseURL, "postgres://u@example.invalid/db?sslmode=disable")
	if got := testenv.RedisURL(t); got != "redis://example.invalid:6379/3" {
		t.Errorf("RedisURL = %q", got)
	}
	if got := testenv.PostgresURL(t); got != "postgres://u@example.invalid/db?sslmode=disable" {
		t.Errorf("PostgresURL = %q", got)
	}
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
