package main

import (
	"fmt"
	"io"
	"os"
)

// With both variables already set, testservers starts no container and
// runs the command with them, exiting with its status.
func Example() {
	environ := []string{
		"PATH=" + os.Getenv("PATH"),
		"RENDEZVOUS_TEST_REDIS_URL=redis://127.0.0.1:6379/0",
		"RENDEZVOUS_TEST_DATABASE_URL=postgres://root@127.0.0.1:5432/test?sslmode=disable",
	}
	code := run([]string{"sh", "-c", `echo "$RENDEZVOUS_TEST_REDIS_URL"`}, environ, os.Stdout, io.Discard, containerServers(), nil)
	fmt.Println("exit status", code)
	// Output:
	// redis://127.0.0.1:6379/0
	// exit status 0
}
