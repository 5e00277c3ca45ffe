// Package siotest is a minimal Socket.IO v5 client over the Engine.IO v4
// WebSocket transport, for tests and the load tool that drive a server from
// Go. Client answers heartbeats by itself and buffers every packet it
// receives so that callers can wait for the one they expect. Lean is the
// load generator's client: it keeps only the first bytes of each message
// (enough for the event name), buffers nothing and counts what it reads, so
// that thousands of them cost less than the server they measure. Browser
// and Node clients are tested with the official socket.io-client instead
// (e2e/).
package siotest
