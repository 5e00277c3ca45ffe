package transport

import (
	"net/http"
	"slices"
	"strings"
)

// CORS. Config.CORSOrigins lists the origins that may call the API from a
// browser; "*" allows every origin but without credentials: such origins
// get Access-Control-Allow-Origin: * and never
// Access-Control-Allow-Credentials, so a browser on another origin does
// not send or receive cookies (the refresh-token cookie then works
// same-origin only). Origins listed by name get their origin echoed with
// Access-Control-Allow-Credentials: true. The same rules apply to the
// Socket.IO endpoint (handshake, polling and upgrade).

// originAllowed reports whether the request's browser origin may use the
// API. Requests without an Origin header (not from a browser) are allowed.
// A refused origin is logged at INFO.
func (t *Transport) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(t.cfg.CORSOrigins, "*") || t.originListed(origin) {
		return true
	}
	t.log.InfoContext(r.Context(), "origin refused", "origin", clip(origin), "method", r.Method, "path", clip(r.URL.Path))
	return false
}

// originListed reports whether origin is listed by name (credentials are
// allowed for it).
func (t *Transport) originListed(origin string) bool {
	return origin != "*" && slices.Contains(t.cfg.CORSOrigins, origin)
}

// setCORSHeaders sets the CORS response headers for an allowed origin.
func (t *Transport) setCORSHeaders(h http.Header, origin string) {
	if t.originListed(origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Del("Access-Control-Allow-Credentials")
	}
	h.Add("Vary", "Origin")
}

// cors adds the CORS response headers for allowed origins and refuses
// disallowed ones.
func (t *Transport) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			if !t.originAllowed(r) {
				t.writeError(w, r, ErrOriginNotAllowed)
				return
			}
			t.setCORSHeaders(w.Header(), origin)
			w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers CORS preflight requests for one path.
func (t *Transport) preflight(methods []string) http.Handler {
	allow := strings.Join(append(methods, "OPTIONS"), ", ")
	return t.cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Allow", allow)
		if r.Header.Get("Origin") != "" {
			h.Set("Access-Control-Allow-Methods", allow)
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

// wildcardCORS rewrites the CORS headers of the Socket.IO server, which
// echoes every allowed origin with credentials, for an origin that is
// allowed only through "*": Access-Control-Allow-Origin: * and no
// credentials, as on the REST API.
type wildcardCORS struct {
	http.ResponseWriter
	fixed bool
}

func (w *wildcardCORS) fix() {
	if w.fixed {
		return
	}
	w.fixed = true
	h := w.ResponseWriter.Header()
	if h.Get("Access-Control-Allow-Origin") != "" {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Del("Access-Control-Allow-Credentials")
	}
}

func (w *wildcardCORS) WriteHeader(code int) {
	w.fix()
	w.ResponseWriter.WriteHeader(code)
}

func (w *wildcardCORS) Write(b []byte) (int, error) {
	w.fix()
	return w.ResponseWriter.Write(b)
}

// Flush lets a streaming response through.
func (w *wildcardCORS) Flush() {
	w.fix()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *wildcardCORS) Unwrap() http.ResponseWriter { return w.ResponseWriter }
