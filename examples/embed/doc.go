// Command embed is a host application's own HTTP server with rendezvous
// inside it: the rooms, accounts and token-wallet services wired to their
// stores, their REST routes and Socket.IO endpoint mounted on the host's
// http.ServeMux next to its own routes, and a game event of its own in the
// rooms namespace.
//
// With no flags it keeps everything in memory, so
//
//	go run ./examples/embed
//
// serves on 127.0.0.1:3000 with nothing else running: the REST API under
// /api (POST /api/rooms, POST /api/auth/signup-anonymous, …), Socket.IO at
// /socket.io/, and the host's own GET /. With -redis, ephemeral state and
// the fan-out of events live in Redis, so several instances behave as
// one; with -database, accounts and the wallet live in PostgreSQL.
//
// The README's "Embedding in your own server" snippet is the part of
// mount between the "README snippet" comments, character for character;
// a test keeps the two equal.
package main
