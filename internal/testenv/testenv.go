package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	goredis "github.com/redis/go-redis/v9"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	tcredis "github.com/testcontainers/testcontainers-go/modules/redis"
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

// Container images started when no URL is configured.
const (
	redisImage    = "redis:7-alpine"
	postgresImage = "postgres:17-alpine"
)

// Timeouts of the Docker probe and of a container start.
const (
	dockerProbeTimeout = 2 * time.Second
	containerTimeout   = 2 * time.Minute
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

// RedisURL returns the URL of a Redis server for tests: EnvRedisURL, else
// a container started once per test binary. Without either it skips t, or
// fails it when RequireIntegration is true.
func RedisURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvRedisURL); u != "" {
		return u
	}
	u, err := redisContainer()
	if err != nil {
		unavailable(t, "Redis", EnvRedisURL, err)
	}
	return u
}

// PostgresURL returns the URL of a Postgres database for tests:
// EnvDatabaseURL, else a container started once per test binary. Without
// either it skips t, or fails it when RequireIntegration is true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		return u
	}
	u, err := postgresContainer()
	if err != nil {
		unavailable(t, "Postgres", EnvDatabaseURL, err)
	}
	return u
}

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

// unavailable skips t, or fails it when integration tests are required.
func unavailable(t testing.TB, server, env string, err error) {
	t.Helper()
	if RequireIntegration() {
		t.Fatalf("testenv: %s is required (%s is set) but unavailable: %v; set %s or start a Docker engine",
			server, EnvRequireIntegration, err, env)
	}
	t.Skipf("testenv: skipping, %s is unavailable: %v; set %s or start a Docker engine", server, err, env)
}

// The containers, started at most once per test binary.
var (
	redisContainer = sync.OnceValues(func() (string, error) {
		return startContainer(func(ctx context.Context) (string, error) {
			c, err := tcredis.Run(ctx, redisImage)
			if err != nil {
				return "", err
			}
			return c.ConnectionString(ctx)
		})
	})
	postgresContainer = sync.OnceValues(func() (string, error) {
		return startContainer(func(ctx context.Context) (string, error) {
			c, err := tcpostgres.Run(ctx, postgresImage,
				tcpostgres.WithDatabase("rendezvous_test"),
				tcpostgres.WithUsername("rendezvous"),
				tcpostgres.WithPassword("rendezvous"),
				tcpostgres.BasicWaitStrategies(),
			)
			if err != nil {
				return "", err
			}
			return c.ConnectionString(ctx, "sslmode=disable")
		})
	})
)

// startContainer runs start when a Docker engine answers.
func startContainer(start func(ctx context.Context) (string, error)) (string, error) {
	if err := dockerAvailable(); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), containerTimeout)
	defer cancel()
	u, err := start(ctx)
	if err != nil {
		return "", fmt.Errorf("start a container: %w", err)
	}
	return u, nil
}

// dockerAvailable reports, within dockerProbeTimeout, whether a Docker
// engine answers, and remembers the answer.
var dockerAvailable = sync.OnceValue(func() (err error) {
	defer func() {
		// Some testcontainers versions panic when no engine is found.
		if r := recover(); r != nil {
			err = fmt.Errorf("no Docker engine: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), dockerProbeTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err == nil {
			_, err = cli.Ping(ctx, client.PingOptions{})
			_ = cli.Close()
		}
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("no Docker engine answers: %w", err)
	}
	return nil
})
