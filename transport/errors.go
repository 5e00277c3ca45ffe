package transport

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
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
	// ErrOriginNotAllowed: the browser origin is not in Config.CORSOrigins.
	ErrOriginNotAllowed = rv.E(rv.KindForbidden, "ORIGIN_NOT_ALLOWED", "this origin may not use the API")
	// ErrRouteNotFound: no endpoint has this path.
	ErrRouteNotFound = rv.E(rv.KindNotFound, "ROUTE_NOT_FOUND", "no endpoint has this path")
	// ErrMethodNotAllowed: the path exists, with other methods. Over HTTP
	// it is answered 405 with an Allow header (the one status that no Kind
	// has).
	ErrMethodNotAllowed = rv.E(rv.KindInvalid, "METHOD_NOT_ALLOWED", "this path does not accept this method")
	// ErrTooManySockets: the user already has Config.MaxSocketsPerUser
	// sockets open in the namespace on this instance (a CONNECT_ERROR).
	ErrTooManySockets = rv.E(rv.KindRateLimited, "TOO_MANY_SOCKETS", "too many open connections for this user; close one first")
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

// HTTPStatus returns the HTTP status for err's Kind, or the status of a
// transport error that has its own (405 for a method that a path does not
// accept).
func HTTPStatus(err error) int {
	var hs httpStatuser
	if errors.As(err, &hs) {
		return hs.httpStatus()
	}
	if s, ok := statusOf[rv.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// httpStatuser is a transport error whose HTTP status is not its Kind's.
// The Kind table stays the rule; only the transport's own errors about the
// HTTP request itself (such as a wrong method) use this.
type httpStatuser interface{ httpStatus() int }

// headerSetter is an error that adds response headers (Allow, say) to the
// error response.
type headerSetter interface{ setHeaders(h http.Header) }

// methodNotAllowed is ErrMethodNotAllowed for a path that accepts allow.
type methodNotAllowed struct{ allow []string }

func (e methodNotAllowed) Error() string   { return ErrMethodNotAllowed.Error() }
func (e methodNotAllowed) Unwrap() error   { return ErrMethodNotAllowed }
func (e methodNotAllowed) httpStatus() int { return http.StatusMethodNotAllowed }
func (e methodNotAllowed) setHeaders(h http.Header) {
	h.Set("Allow", strings.Join(e.allow, ", "))
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
	status, p, _ := t.publicDetailed(ctx, err, attrs...)
	return status, p
}

// publicDetailed is public with the error's Details that a client may
// see: none for an internal error (whose details stay in the log).
func (t *Transport) publicDetailed(ctx context.Context, err error, attrs ...slog.Attr) (int, ErrorPayload, map[string]any) {
	e := rv.AsError(err)
	t.observeError(e)
	status := HTTPStatus(err)
	if e.Kind == rv.KindInternal || (e.Kind == rv.KindUnavailable && e.Err != nil) {
		t.log.LogAttrs(ctx, slog.LevelError, "request failed", append(attrs, slog.String("code", e.Code), slog.Any("err", err))...)
	}
	var details map[string]any
	if e.Kind != rv.KindInternal {
		details = e.Details
	}
	return status, ErrorPayload{Code: e.Code, Message: e.Message}, details
}

func (t *Transport) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, p, details := t.publicDetailed(r.Context(), err, slog.String("method", r.Method), slog.String("path", r.URL.Path))
	if secs, ok := retryAfterSeconds(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	var hs headerSetter
	if errors.As(err, &hs) {
		hs.setHeaders(w.Header())
	}
	body := ErrorBody{StatusCode: status, Error: http.StatusText(status), Message: p.Message, Code: p.Code}
	if len(details) > 0 {
		WriteJSON(w, status, detailedBody{ErrorBody: body, details: details})
		return
	}
	WriteJSON(w, status, body)
}

// reservedKeys are the fields of ErrorBody, which details never override.
var reservedKeys = map[string]bool{"statusCode": true, "error": true, "message": true, "code": true}

// detailedBody is an ErrorBody followed by the error's details
// (encodeDetails).
type detailedBody struct {
	ErrorBody
	details map[string]any
}

func (b detailedBody) MarshalJSON() ([]byte, error) {
	out, err := json.Marshal(b.ErrorBody)
	if err != nil {
		return nil, err
	}
	out = out[:len(out)-1] // the closing brace
	for _, f := range encodeDetails(b.details) {
		name, _ := json.Marshal(f.key)
		out = append(out, ',')
		out = append(out, name...)
		out = append(out, ':')
		out = append(out, f.value...)
	}
	return append(out, '}'), nil
}

// detailField is one encoded detail.
type detailField struct {
	key   string
	value json.RawMessage
}

// encodeDetails encodes details in the order of their keys, leaving out
// the keys of ErrorBody and the values that do not encode as JSON.
func encodeDetails(details map[string]any) []detailField {
	keys := make([]string, 0, len(details))
	for k := range details {
		if !reservedKeys[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	fields := make([]detailField, 0, len(keys))
	for _, k := range keys {
		if v, err := json.Marshal(details[k]); err == nil {
			fields = append(fields, detailField{k, v})
		}
	}
	return fields
}
