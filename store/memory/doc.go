// Package memory implements the rendezvous store interfaces in process
// memory. It is the zero-config default of an embedded server and the fast
// backend of unit tests; it passes the same conformance suite
// (store/storetest) as the Redis implementation, so code tested against it
// behaves the same in production.
//
// The types provided:
//
//   - RoomStore implements rooms.Store. One mutex guards every room, so each
//     method is atomic. A room expires Write.TTL after its last write, as
//     told by the store's clock; expired rooms are dropped lazily when they
//     are looked up and swept opportunistically on writes, with no
//     background goroutine.
//   - RateLimiter counts requests per key in fixed windows.
//   - Broker is an in-process rendezvous.Notifier with Subscribe, for a
//     single-instance deployment.
//   - AuthStore implements auth.Store (users, identities, refresh-token
//     families, verification codes) and CutoffStore auth.CutoffStore (the
//     access-token cut-off of logout-all).
//   - WalletStore implements billing.Store: balances, the ledger and the
//     idempotency of purchases, debits, refunds and bonuses.
//   - SessionStore implements session.Store and OptinStore optin.Store:
//     video sessions, choice windows and matches (one live match per
//     pair of users); ChatStore implements chat.Store over an OptinStore's
//     matches: their messages, and unmatching.
//   - JobStore implements rendezvous.JobStore, the durable scheduler's
//     store, for one process.
//   - QueueStore implements matchmaking.Store, the dating queue: FIFO per
//     queue key, and a set of the keys with two or more waiting users, so
//     a pop costs in the pairs it makes.
//
// Everything is lost when the process exits, and nothing is shared between
// processes: a deployment with several instances uses store/redis instead.
//
// Times are kept with millisecond precision in UTC, exactly as store/redis
// keeps them, so both stores return the same values.
package memory
