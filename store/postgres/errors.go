package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	rv "github.com/rendezvous-go/rendezvous"
)

// wrapUnavailable returns err as rendezvous.ErrStoreUnavailable (code
// STORE_UNAVAILABLE, HTTP 503), with err kept as its cause, when it means
// that PostgreSQL could not be reached or did not answer in time: a failed
// connection attempt, a network error, a timeout (a context deadline or
// statement_timeout), a server shutting down or refusing connections. Any
// other error, a canceled context among them, is returned unchanged, as is
// nil.
func wrapUnavailable(err error) error {
	if unavailable(err) {
		return rv.ErrStoreUnavailable.Wrap(err)
	}
	return err
}

func unavailable(err error) bool {
	var (
		rvErr      *rv.Error
		connectErr *pgconn.ConnectError
		netErr     net.Error
		pgErr      *pgconn.PgError
	)
	switch {
	case err == nil, errors.As(err, &rvErr), errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &connectErr),
		pgconn.Timeout(err),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &netErr):
		return true
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case "57014", // query_canceled: statement_timeout
			"57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now
			"53300": // too_many_connections
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	return false
}
