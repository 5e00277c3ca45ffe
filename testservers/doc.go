// Command testservers starts the real servers the integration tests of
// rendezvous run against, Redis and PostgreSQL, in Docker containers with
// testcontainers-go, and hands their URLs to the tests in the variables
// that internal/testenv reads:
//
//	RENDEZVOUS_TEST_REDIS_URL=redis://127.0.0.1:32768
//	RENDEZVOUS_TEST_DATABASE_URL=postgres://rendezvous:rendezvous@127.0.0.1:32769/rendezvous_test?sslmode=disable
//
// It is a module of its own (github.com/rendezvous-go/rendezvous/testservers)
// so that testcontainers-go, the Docker client and their dependencies stay
// out of the module graph of everyone who imports rendezvous. It imports
// nothing from rendezvous.
//
// # Usage
//
// From the repository root:
//
//	go -C testservers build -o ../bin/testservers .
//	bin/testservers go test ./...
//
// With a command, testservers starts the servers whose variable is unset
// (one already set in the environment is used as it is), runs the command
// with both variables added to its environment, removes the containers
// when the command exits and exits with the command's status. It passes
// SIGINT and SIGTERM on to the command. `make test` does exactly this when
// a variable is unset and `docker info` succeeds.
//
// Without a command it prints one NAME=URL line per server on standard
// output and keeps the containers until it receives SIGINT or SIGTERM
// (Ctrl-C), so that another shell can export the lines and run tests
// repeatedly against the same servers:
//
//	go -C testservers run .    # prints the lines, then waits
//
// Flags:
//
//	-redis=false      do not start Redis
//	-postgres=false   do not start PostgreSQL
//	-timeout 5m       bound of the Docker probe and the container starts (image pulls included)
//
// testservers removes its containers itself on every ordinary exit. If it
// is killed outright (SIGKILL), testcontainers' reaper (Ryuk) removes them
// shortly after its connection drops, unless TESTCONTAINERS_RYUK_DISABLED
// is set. Any Docker-compatible engine that testcontainers-go supports
// works (DOCKER_HOST is honoured).
package main
