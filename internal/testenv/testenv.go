package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The environment variables that configure the test servers.
const (
	// EnvRequireIntegration, set to "1" or "true", makes a missing server
	// fail the test instead of skipping it.
	EnvRequireIntegration = "RENDEZVOUS_REQUIRE_INTEGRATION"
	// EnvRedisURL is the URL of the Redis server tests use, such as
	// redis://127.0.0.1:6379/0.
	EnvRedisURL = "RENDEZVOUS_TEST_REDIS_URL"
	// EnvDatabaseURL is the URL of the Postgres database tests use, such
	// as postgres://user:pass@127.0.0.1:5432/rendezvous_test.
	EnvDatabaseURL = "RENDEZVOUS_TEST_DATABASE_URL"
)

// RequireIntegration reports whether tests must fail, rather than skip,
// when a server they need is unavailable: EnvRequireIntegration is "1" or
// "true".
func RequireIntegration() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(EnvRequireIntegration))) {
	case "1", "true":
		return true
	}
	return false
}

// RedisURL returns the URL of the Redis server for tests, EnvRedisURL.
// When it is unset it skips t, or fails it when RequireIntegration is true.
func RedisURL(t testing.TB) string {
	t.Helper()
	return serverURL(t, "Redis", EnvRedisURL)
}

// PostgresURL returns the URL of the Postgres database for tests,
// EnvDatabaseURL. When it is unset it skips t, or fails it when
// RequireIntegration is true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return serverURL(t, "Postgres", EnvDatabaseURL)
}

// serverURL returns the value of env, or skips or fails t when it is
// unset.
func serverURL(t testing.TB, server, env string) string {
	t.Helper()
	if u := strings.TrimSpace(os.Getenv(env)); u != "" {
		return u
	}
	if RequireIntegration() {
		t.Fatalf("testenv: %s is required (%s is set) but %s is unset; %s", server, EnvRequireIntegration, env, howToGetServers)
	}
	t.Skipf("testenv: skipping, %s is unset; %s", env, howToGetServers)
	return ""
}

// howToGetServers ends the skip and failure messages.
const howToGetServers = "set it, or run make test, which starts the missing servers with ./testservers when a Docker engine answers"

// Redis connects to the Redis server of RedisURL and returns a client and
// a key prefix unique to this test, "rvtest:<random hex>:". When the test
// ends, every key under the prefix is deleted and the client is closed.
func Redis(t testing.TB) (client *goredis.Client, prefix string) {
	t.Helper()
	url := RedisURL(t)
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("testenv: invalid Redis URL %q: %v", url, err)
	}
	client = goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		t.Fatalf("testenv: Redis at %s does not answer: %v", opts.Addr, err)
	}

	prefix = "rvtest:" + randomHex(8) + ":"
	t.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deleteKeys(ctx, client, prefix); err != nil {
			t.Errorf("testenv: delete the keys under %q: %v", prefix, err)
		}
	})
	return client, prefix
}

// deleteKeys deletes every key that starts with prefix. prefix must hold no
// glob characters.
func deleteKeys(ctx context.Context, c *goredis.Client, prefix string) error {
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.Unlink(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	return flush()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
