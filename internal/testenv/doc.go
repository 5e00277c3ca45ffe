// Package testenv gives tests the real servers they run against: Redis
// (and, for the Postgres stores, a database URL), each isolated per test.
//
// A server's URL comes from an environment variable:
// RENDEZVOUS_TEST_REDIS_URL (redis://host:port/db) or
// RENDEZVOUS_TEST_DATABASE_URL (postgres://…). When it is unset, the test
// is skipped, or fails when RENDEZVOUS_REQUIRE_INTEGRATION is "1" or
// "true", which CI sets so that a missing server is never mistaken for a
// pass.
//
// This package starts no database server. `make test` fills in an unset
// variable from Docker containers when a Docker engine answers, through
// the testservers command: the nested module in ./testservers, which keeps
// testcontainers-go out of this module's dependencies. Only stripe-mock,
// which needs no Docker, is started here (StripeMockURL).
//
// Tests share the servers with each other and with other test runs, so
// each isolates its data: Redis hands every test a client and a unique key
// prefix whose keys are deleted when the test ends. Nothing here ever
// flushes a database.
//
// A typical Redis test:
//
//	func TestSomething(t *testing.T) {
//		client, prefix := testenv.Redis(t) // skips when there is no Redis
//		store := redis.NewRoomStore(client, prefix)
//		…
//	}
//
// Every function needs a testing.TB and may skip the test, so the package
// has no runnable example.
package testenv
