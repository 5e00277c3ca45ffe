// Package testenv gives tests the real servers they run against: Redis
// (and, for the Postgres stores, a database URL), each isolated per test.
//
// A server comes from, in order:
//
//  1. an environment variable: RENDEZVOUS_TEST_REDIS_URL
//     (redis://host:port/db) or RENDEZVOUS_TEST_DATABASE_URL
//     (postgres://…);
//  2. else a container started with testcontainers-go, once per test
//     binary, when a Docker engine answers within two seconds; the
//     container is removed by testcontainers' reaper when the binary exits;
//  3. else nothing: the test is skipped, or fails when
//     RENDEZVOUS_REQUIRE_INTEGRATION is "1" or "true", which CI sets so
//     that a missing server is never mistaken for a pass.
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
