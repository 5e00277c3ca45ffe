// Package logbuf holds Buffer, a concurrency-safe buffer that tests hand to
// a slog handler to read back what the code under test logged.
package logbuf
