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
//   - Clock, so that timers and expiry can be tested without sleeping.
package rendezvous
