package main

import (
	"io"
	"os"
)

// With both variables already set, testservers starts no container and
// runs the command with them, exiting with its status.
func Example() {
	getenv := func(name string) string {
		switch name {
		case envRedisURL:
			return "redis://127.0.0.1:6379/0"
		case envDatabaseURL:
			return "postgres://root@127.0.0.1:5432/test?sslmode=disable"
		}
		return ""
	}
	code := run([]string{"sh", "-c", `echo "$RENDEZVOUS_TEST_REDIS_URL"`}, getenv, os.Stdout, io.Discard, containerServers(), nil)
	_ = code
	// Output:
	// redis://127.0.0.1:6379/0
}
