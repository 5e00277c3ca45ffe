package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	goredis "github.com/redis/go-redis/v9"

	rv "github.com/rendezvous-go/rendezvous"
)

// storeError wraps err, the failure of the operation what. When err means
// that Redis is unreachable, timed out, refused by a Breaker or not ready
// to serve, the result is rendezvous.ErrStoreUnavailable (a 503 for
// clients) with err kept as its cause, so errors.Is still finds
// context.DeadlineExceeded or ErrCircuitOpen in it.
func storeError(what string, err error) error {
	wrapped := fmt.Errorf("redis: %s: %w", what, err)
	if unavailable(err) {
		return rv.ErrStoreUnavailable.Wrap(wrapped)
	}
	return wrapped
}

// unavailable reports whether err means that Redis could not serve the
// command. A canceled context is the caller's doing and is not.
func unavailable(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, ErrCircuitOpen), errors.Is(err, goredis.ErrClosed), connFailure(err):
		return true
	}
	// Replies of a server that is up but cannot serve yet or any more.
	for _, prefix := range []string{"LOADING ", "MASTERDOWN ", "CLUSTERDOWN ", "TRYAGAIN ", "READONLY ", "NOREPLICAS ", "BUSY ", "max number of clients"} {
		if goredis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	return false
}

// connFailure reports whether err is a network failure or a timeout: the
// errors a Breaker counts.
func connFailure(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, goredis.ErrPoolTimeout) ||
		errors.Is(err, goredis.ErrPoolExhausted) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
