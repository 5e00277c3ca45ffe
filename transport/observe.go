package transport

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// Observability: Config.Metrics counts the HTTP requests by route pattern
// and the Socket.IO activity; Config.AccessLog logs one line per request
// and gives each request an id, in the X-Request-Id response header and in
// every log line written with the request's context.

// RequestIDHeader is the header of a request's id: taken from the request
// when it is a sane token (RequestIDMaxLen bytes at most, letters, digits
// and "-_.:"), else made up, and always set on the response.
const RequestIDHeader = "X-Request-Id"

// RequestIDMaxLen bounds an incoming request id.
const RequestIDMaxLen = 64

type requestIDKey struct{}

// requestID is the context value of a request id: a pointer, so that
// storing it in a context allocates nothing more.
type requestID struct{ id string }

// RequestID returns the id of the request whose context is ctx ("" when
// Config.AccessLog is off, or outside a request).
func RequestID(ctx context.Context) string {
	if v, _ := ctx.Value(requestIDKey{}).(*requestID); v != nil {
		return v.id
	}
	return ""
}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, &requestID{id})
}

// RequestIDHandler wraps h so that every record logged with a request's
// context carries its id as the attribute "requestId". A Transport with
// Config.AccessLog wraps its Logger so; wrap the logger of the services
// too, so that their lines carry it.
func RequestIDHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("requestId", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// saneRequestID reports whether an incoming request id may be kept.
func saneRequestID(id string) bool {
	if id == "" || len(id) > RequestIDMaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns a random id of 16 URL-safe characters.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// initObserve wires the Socket.IO observers of cfg into scfg, and the
// Logger's request ids.
func (t *Transport) initObserve(scfg *socketio.Config) {
	if t.cfg.AccessLog {
		t.log = slog.New(RequestIDHandler(t.log.Handler()))
		scfg.Logger = t.log
	}
	scfg.OnSocketConnected = t.logConnected
	scfg.OnSocketDisconnected = t.logDisconnected
	if m := t.cfg.Metrics; m != nil {
		scfg.OnEventIn = m.ObserveEventIn
		scfg.OnEventOut = m.ObserveEventOut
		scfg.OnSlowClient = m.ObserveSlowClient
		scfg.OnRefused = m.ObserveRefusal
	}
}

// startObserve lets the metrics count the sockets at scrape time.
func (t *Transport) startObserve() {
	t.cfg.Metrics.SetSocketCounter(t.io.CountSockets)
}

// logConnected writes the DEBUG line of a connected socket.
func (t *Transport) logConnected(s *socketio.Socket) {
	if !t.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	t.log.LogAttrs(context.Background(), slog.LevelDebug, "socket connected", t.socketAttrs(s)...)
}

// logDisconnected writes the DEBUG line of a socket that left.
func (t *Transport) logDisconnected(s *socketio.Socket, reason string) {
	if !t.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	t.log.LogAttrs(context.Background(), slog.LevelDebug, "socket disconnected", append(t.socketAttrs(s), slog.String("reason", reason))...)
}

func (t *Transport) socketAttrs(s *socketio.Socket) []slog.Attr {
	attrs := []slog.Attr{slog.String("namespace", s.Namespace()), slog.String("socket", s.ID()), slog.String("transport", s.Transport())}
	if p, ok := SocketPrincipal(s); ok {
		attrs = append(attrs, slog.String("user", p.UserID))
	}
	return attrs
}

// observeError counts the server-side failures answered to clients.
func (t *Transport) observeError(e *rv.Error) {
	if t.cfg.Metrics != nil && (e.Kind == rv.KindInternal || e.Kind == rv.KindUnavailable) {
		t.cfg.Metrics.ObserveError(e.Kind.String(), e.Code)
	}
}

// observeWebhook counts the outcomes of a webhook route of provider.
func (t *Transport) observeWebhook(provider string, h HandlerFunc) HandlerFunc {
	if t.cfg.Metrics == nil || provider == "" {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		result := "ok"
		if err != nil {
			result = rv.AsError(err).Code
		}
		t.cfg.Metrics.ObserveWebhook(provider, result)
		return err
	}
}

// Observed wraps h, served at the ServeMux pattern route, with the
// Transport's metrics and access log (Config.Metrics, Config.AccessLog),
// as Mount does for its own routes: a host application wraps its own
// routes on the same mux so. With neither configured it returns h.
func (t *Transport) Observed(route string, h http.Handler) http.Handler {
	m, logged := t.cfg.Metrics, t.cfg.AccessLog
	if m == nil && !logged {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		if logged {
			id := r.Header.Get(RequestIDHeader)
			if !saneRequestID(id) {
				id = newRequestID()
			}
			// The header's value and the context's id live in sw: one
			// allocation per request for all three.
			sw.id = requestID{id}
			sw.idHeader[0] = id
			w.Header()[RequestIDHeader] = sw.idHeader[:1:1]
			r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, &sw.id))
		}
		defer func() {
			d := time.Since(start)
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			m.ObserveHTTP(route, r.Method, status, d)
			if logged {
				t.log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
					slog.String("method", r.Method),
					slog.String("route", route),
					slog.Int("status", status),
					slog.Float64("durationMs", float64(d.Microseconds())/1000),
					slog.String("clientIp", t.requestIP(sw, r)))
			}
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusWriter records the status of a response. A hijacked connection (a
// WebSocket upgrade) counts as 101.
type statusWriter struct {
	http.ResponseWriter
	status   int
	ip       string    // the client IP, once worked out (requestIP)
	id       requestID // the request id of Config.AccessLog
	idHeader [1]string // the X-Request-Id header's value
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets a streaming response (long-polling) through.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to a WebSocket upgrade.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("transport: the ResponseWriter cannot be hijacked")
	}
	c, rw, err := h.Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
