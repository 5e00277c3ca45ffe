// Package socketio implements a Socket.IO v5 server on top of Engine.IO v4
// (protocol revision 4), compatible with the official socket.io-client v4
// with its default options (HTTP long-polling first, then upgrade to
// WebSocket) as well as with transports: ["websocket"].
//
// # Overview
//
// A Server is an http.Handler serving the whole Engine.IO endpoint; mount it
// where the clients expect it, usually "/socket.io/":
//
//	srv := socketio.NewServer(socketio.Config{})
//	mux.Handle("/socket.io/", srv)
//
// Namespaces are created with Server.Of. Only those are served: "/" too
// exists only once the application calls Of("/"), and a CONNECT to any
// other namespace gets CONNECT_ERROR {"message":"Invalid namespace"}, as
// with the reference server. Each namespace has an optional authorization
// handler (OnConnect), a handler of connected sockets (OnConnected), event
// handlers (On and OnAny), a handler for events over the rate limit
// (OnRateLimited) and a disconnect handler (OnDisconnect). Per-socket
// values are kept under typed keys (NewKey). Sockets can join rooms, and Namespace.Emit broadcasts to a
// room or to the whole namespace; the packet is encoded once and the same
// bytes are written to every recipient.
//
// # Socket lifecycle
//
// A socket goes through three steps, each with its handler:
//
//  1. Connecting: OnConnect (a ConnectHandler) authorizes the CONNECT
//     packet and may refuse it with CONNECT_ERROR. It may join rooms,
//     emit initial events (delivered right after the CONNECT packet) and
//     store values (Key.Set), but should have no other side effect: the
//     transport can still die before the socket connects, and then no
//     other handler runs for it.
//  2. Connected: OnConnected runs once the CONNECT packet and the pending
//     events were queued to the client and the socket is registered in the
//     namespace and its rooms, before any event handler of the socket.
//     Side effects (presence, counters, subscriptions) belong here.
//  3. Disconnected: OnDisconnect runs exactly once for every socket whose
//     connected step ran (even with no OnConnected handler set), and never
//     for the others, whatever ends the socket: the client, the server
//     (Socket.Disconnect, Namespace.DisconnectRoom, Server.Shutdown), a
//     closed WebSocket, a cancelled polling request or a heartbeat
//     timeout, at any point of the handshake.
//
// # Ordering and concurrency
//
// All handlers of one client connection (OnConnect, OnConnected, On/OnAny
// handlers, ack callbacks and OnDisconnect, across every namespace
// multiplexed on the connection) run one at a time, in the order the
// packets arrived. They run on the goroutine that reads the connection
// (its reader goroutine, or the transient goroutine that handles a burst of
// polled data, see Resources) or on the goroutine that triggered them (for
// example the one calling Socket.Disconnect); no goroutine is started per
// packet. A slow handler delays its own connection only. Namespace.Emit and
// Namespace.DisconnectRoom never run a handler on their caller's goroutine
// and never wait for one: DisconnectRoom takes the sockets out of their
// rooms at once and queues their disconnection behind the handler their
// connection is running, on a goroutine of its own when the connection is
// idle; a DISCONNECT packet follows everything sent to the socket before.
// Panics in handlers are recovered and logged, and the socket is
// disconnected.
//
// A broadcast (Namespace.Emit) is encoded once, whatever its number of
// recipients: the packet, then its WebSocket frames, which every WebSocket
// recipient writes as they are in one write system call (polling
// recipients queue the same packet). json.RawMessage arguments, which the
// events of a rendezvous Broker carry, are copied into the packet rather
// than marshalled again when json.Marshal would leave them unchanged.
// Rooms of 64 sockets and more are written by up to GOMAXPROCS goroutines,
// each owning a share of the sockets, since the write system calls are
// almost all a broadcast costs; Emit returns once all are written.
//
// # Protocol
//
// The Engine.IO layer implements the handshake, the heartbeat (the server
// pings every PingInterval and closes the connection when no pong arrives
// within PingTimeout), HTTP long-polling with record-separated payloads and
// base64 binary packets, WebSocket (built on github.com/gobwas/ws), the
// polling to WebSocket upgrade (2probe/3probe/noop/5) and the close packet.
// Rejected requests get the same status codes and JSON bodies as the
// reference server, for example
// {"code":1,"message":"Session ID unknown"}.
//
// The Socket.IO layer implements CONNECT (with auth payload), CONNECT_ERROR,
// DISCONNECT, EVENT, ACK, BINARY_EVENT and BINARY_ACK, over any number of
// namespaces multiplexed on one connection. Received attachments are
// available in Event.Attachments (the placeholders stay in Event.Args, see
// Event.Attachment); top-level []byte arguments of Emit and Ack are sent as
// binary attachments. Decoding is strict: a malformed packet closes the
// Engine.IO connection and its sockets see OnDisconnect with reason
// "parse error", while the server carries on.
//
// # Limits
//
// An Engine.IO connection that has no socket connected to a namespace is
// closed after Config.ConnectTimeout (45 s by default): after its handshake,
// and again whenever its last namespace socket disconnects. So a client that
// opens connections without ever being accepted by a namespace's OnConnect
// cannot keep them.
//
// Config.EventRate and Config.EventBurst set a token bucket per Engine.IO
// connection, shared by all its namespaces, counting every CONNECT, EVENT
// and BINARY_EVENT the client sends. A CONNECT over the limit gets
// CONNECT_ERROR
// {"message":"too many requests; try again later","data":{"code":"RATE_LIMITED"}};
// an event over the limit goes to Namespace.OnRateLimited, or is dropped.
//
// A session keeps only a few things of its handshake request (see
// Socket.Request), and the server repeats at most 64 bytes of a client's
// input (a namespace or event name) in replies, errors and log lines: a
// CONNECT to an unknown namespace with a longer name closes the connection,
// since no CONNECT_ERROR could name it.
//
// # Resources
//
// An idle WebSocket connection owns no goroutine and no I/O buffer. On
// Linux, the Server waits for readable WebSockets with epoll (one epoll
// instance and one goroutine waiting in it, started with the first
// WebSocket and stopped by Shutdown) and reads them with a bounded pool of
// worker goroutines (GOMAXPROCS, at least 2):
//
//   - Each connection is registered with EPOLLIN|EPOLLRDHUP|EPOLLONESHOT,
//     with an id of the server's connection table (slot and generation) as
//     the event data, never the descriptor number, so a late event cannot
//     reach a connection that reused the descriptor; every epoll_ctl runs
//     inside syscall.RawConn.Control, which keeps the descriptor open, and
//     the connection is removed (EPOLL_CTL_DEL) before it is closed.
//   - A reported connection is disarmed until its data was handled, so at
//     most one goroutine reads it and frames are handled in order. A worker
//     reads what is available without blocking (RawConn.Read with a
//     non-blocking read that never parks in Go's netpoller, at most 64 KiB
//     per turn) into a buffer of its own, copies them to a pooled buffer of
//     the size they need, and hands them to a transient goroutine. That goroutine parses the frames (github.com/gobwas/ws
//     headers), answers control frames, enforces MaxPayload, UTF-8 and the
//     close handshake, and runs the handlers through the connection's
//     serial queue exactly as a reader goroutine would; it keeps only the
//     bytes of an incomplete frame (or of an unfinished fragmented message),
//     re-arms the connection and exits. Workers never run handlers, so a
//     slow handler delays its own connection only.
//   - The waits that a reader goroutine bounds with a read deadline (the
//     peer's close frame after the server's, closeLinger; the
//     polling-to-WebSocket upgrade) are timers, which hold no goroutine.
//   - End of stream, EPOLLRDHUP, errors and expired timers all end in the
//     same path as a reader goroutine's: the session closes once, and the
//     disconnect handlers run exactly once.
//
// Connections without a file descriptor (a *tls.Conn, net.Pipe), other
// systems, and servers with Config.GoroutineReader get a reader goroutine
// per WebSocket, blocked in Read with a shallow stack. In both modes writes
// are framed into pooled buffers and written directly on the network
// connection; a flusher goroutine exists only while a client reads slower
// than the server writes. An idle polling connection owns no goroutine.
//
// # Heartbeats and per-session memory
//
// One scheduler per Server runs the heartbeats of all its sessions under a
// single timer: time is cut into ticks of an eighth of the shorter of
// PingInterval and PingTimeout (at most 500 ms, at least 1 ms), each session
// is filed under the tick at or after which its next step is due (send a
// ping, or give up waiting for the pong), and the timer is armed for the
// earliest filed tick only while some session is filed. A ping is thus
// never sent early and at most about one tick (plus timer latency) late,
// and a session without pong closes no sooner than PingTimeout after its
// ping and at most about one tick later: with the defaults (25 s / 20 s),
// within 500 ms of the Engine.IO timings, well inside the client's own
// pingInterval+pingTimeout allowance. Pings go out on the scheduler's
// goroutine (a WebSocket write never waits for a slow client, see
// writeRawLocked); a ping timeout closes its session on a goroutine of its
// own, since that runs the disconnect handlers.
//
// An idle WebSocket session costs, in this package, about 1 KB of heap (10,000
// sockets joined to two rooms each; see BENCHMARKS.md): the session (conn,
// 256-byte size class), its WebSocket (192), its Socket (128), the
// handshake request packed into one string with the session id (see
// Socket.Request), the socket's Key values and rooms in small slices, and
// one pointer per room in the namespace's index, which keeps each socket's
// position so that leaving is a swap with the last member. What a socket
// seldom needs (messages queued while it connects, SetData, a Done channel,
// acknowledgement callbacks) is allocated on demand.
//
// A Server that is never shut down keeps its poller goroutines (one waiter
// and the workers) for the life of the process.
package socketio
