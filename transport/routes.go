package transport

// RouteInfo describes one REST route that Mount registers.
type RouteInfo struct {
	// Method is the HTTP method, such as "GET".
	Method string
	// Pattern is the route's path with Config.Prefix, in ServeMux syntax,
	// such as "/api/rooms/{code}".
	Pattern string
}

// Routes lists the REST routes that Mount registers: those of the modules,
// in registration order, then the built-in GET /healthz and GET /readyz,
// all under Config.Prefix. The OPTIONS preflights, the catch-all and the
// Socket.IO endpoint are not listed. It serves API descriptions and the
// tests that keep them in step with what is mounted.
func (t *Transport) Routes() []RouteInfo {
	p := t.cfg.Prefix
	out := make([]RouteInfo, 0, len(t.routes)+2)
	for _, rt := range t.routes {
		out = append(out, RouteInfo{Method: rt.Method, Pattern: p + rt.Path})
	}
	return append(out,
		RouteInfo{Method: "GET", Pattern: p + "/healthz"},
		RouteInfo{Method: "GET", Pattern: p + "/readyz"},
	)
}
