package transport

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
)

// Errors of the transport itself.
var (
	ErrInvalidBody  = rv.E(rv.KindInvalid, "INVALID_BODY", "the request body is not valid JSON for this endpoint")
	ErrBodyTooLarge = rv.E(rv.KindInvalid, "BODY_TOO_LARGE", "the request body is too large")
	ErrInvalidQuery = rv.E(rv.KindInvalid, "INVALID_QUERY", "a query parameter is invalid")
	ErrRateLimited  = rv.ErrRateLimited
	ErrNotReady     = rv.E(rv.KindUnavailable, "NOT_READY", "a store is unreachable")
)

// statusOf is the one table from error Kind to HTTP status.
var statusOf = map[rv.Kind]int{
	rv.KindInternal:        http.StatusInternalServerError,
	rv.KindInvalid:         http.StatusBadRequest,
	rv.KindUnauthenticated: http.StatusUnauthorized,
	rv.KindPaymentRequired: http.StatusPaymentRequired,
	rv.KindForbidden:       http.StatusForbidden,
	rv.KindNotFound:        http.StatusNotFound,
	rv.KindConflict:        http.StatusConflict,
	rv.KindRateLimited:     http.StatusTooManyRequests,
	rv.KindUnavailable:     http.StatusServiceUnavailable,
}

// HTTPStatus returns the HTTP status for err's Kind.
func HTTPStatus(err error) int {
	if s, ok := statusOf[rv.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON body of every REST error: the NestJS shape plus a
// stable code.
type ErrorBody struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	Code       string `json:"code"`
}

// ErrorPayload is the payload of error:room events and of failed
// acknowledgements.
type ErrorPayload struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// retryAfter is a rate-limit error that knows when to try again.
type retryAfter struct {
	err   *rv.Error
	after time.Duration
}

func (e retryAfter) Error() string             { return e.err.Error() }
func (e retryAfter) Unwrap() error             { return e.err }
func (e retryAfter) RetryAfter() time.Duration { return e.after }

// retryAfterSeconds returns the whole seconds, at least one, after which a
// rate-limited request may be retried, when err tells it.
func retryAfterSeconds(err error) (int, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) {
		return 0, false
	}
	return max(1, int(math.Ceil(ra.RetryAfter().Seconds()))), true
}

// public turns err into what a client may see. Internal errors, and
// unavailable ones with a cause, are logged once with their details; the
// client sees only the generic message.
func (t *Transport) public(ctx context.Context, err error, attrs ...slog.Attr) (int, ErrorPayload) {
	e := rv.AsError(err)
	status := HTTPStatus(e)
	if e.Kind == rv.KindInternal || (e.Kind == rv.KindUnavailable && e.Err != nil) {
		t.log.LogAttrs(ctx, slog.LevelError, "request failed", append(attrs, slog.String("code", e.Code), slog.Any("err", err))...)
	}
	return status, ErrorPayload{Code: e.Code, Message: e.Message}
}

func (t *Transport) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, p := t.public(r.Context(), err, slog.String("method", r.Method), slog.String("path", r.URL.Path))
	if secs, ok := retryAfterSeconds(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	writeJSON(w, status, ErrorBody{StatusCode: status, Error: http.StatusText(status), Message: p.Message, Code: p.Code})
}
