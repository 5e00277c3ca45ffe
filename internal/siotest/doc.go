// Package siotest is a minimal Socket.IO v5 client over the Engine.IO v4
// WebSocket transport, for tests and the load tool that drive a server from
// Go. It answers heartbeats by itself and buffers every packet it receives
// so that callers can wait for the one they expect. Browser and Node
// clients are tested with the official socket.io-client instead (e2e/).
package siotest
