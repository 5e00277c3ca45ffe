// Package rendezvous is an embeddable SDK for real-time social products:
// Jackbox-style rooms with short codes and host controls, and the building
// blocks of a blind video dating product.
//
// Go servers import the feature packages (rooms, auth, …), pick store
// implementations (store/memory for a zero-config default, store/redis and
// store/postgres for production), and mount every REST handler and the
// Socket.IO endpoint with package transport. The reference deployment that
// assembles the whole product is examples/server.
//
// This root package holds the few types every feature shares:
//
//   - Error, with a Kind (how a transport should answer) and a stable Code
//     that reaches clients unchanged;
//   - Event and Notifier, through which features publish real-time events
//     without knowing which process holds the receiving sockets;
//   - Clock, so that timers and expiry can be tested without sleeping;
//   - Scheduler, the one durable timer of the module: jobs (a session's
//     end, a choice window's auto-pass, room and ban expiry) kept in a
//     JobStore shared by every instance, claimed under a lease with a
//     fencing token, run at least once within 200 ms of their due time,
//     and retried with a backoff when their handler fails.
package rendezvous
