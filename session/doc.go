// Package session runs the timed video calls of the dating product: a
// Session per pair, Agora credentials for both participants
// (VideoTokenIssuer, implemented by package session/agora), and a
// server-authoritative end timer that is a durable scheduler job.
package session
