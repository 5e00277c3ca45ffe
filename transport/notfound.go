package transport

import (
	"net/http"
	"net/url"
)

// probeMethods are the methods the catch-all asks the mux about, in the
// order of the Allow header.
var probeMethods = []string{
	http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions,
	http.MethodPatch, http.MethodPost, http.MethodPut,
}

// mountCatchAll registers the catch-all of the prefix (Prefix+"/", or "/"
// without a prefix): a path under the prefix that no route has is answered
// 404 ROUTE_NOT_FOUND, and one that exists with other methods 405
// METHOD_NOT_ALLOWED with an Allow header, both with the JSON error body.
//
// Every more specific pattern still wins, so the host application's own
// routes on the mux keep working. The catch-all matches every method, so
// the mux no longer answers 405 by itself: the catch-all finds the allowed
// methods by asking the mux which pattern each method would reach. When
// the host application registered the same pattern before Mount, Mount
// leaves it alone.
func (t *Transport) mountCatchAll(mux *http.ServeMux) {
	pattern := t.cfg.Prefix + "/"
	if _, p := mux.Handler(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: pattern}}); p == pattern {
		return
	}
	mux.Handle(pattern, t.Observed(pattern, t.cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range probeMethods {
			probe := r.WithContext(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "" && p != pattern {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			t.writeError(w, r, ErrRouteNotFound)
			return
		}
		t.writeError(w, r, methodNotAllowed{allow: allow})
	}))))
}
