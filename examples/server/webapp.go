package main

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"github.com/rendezvous-go/rendezvous/transport"
)

// webFiles is the demo web app: one page and its scripts and styles, with
// no build step and nothing loaded from another host.
//
//go:embed web
var webFiles embed.FS

// webAppModule serves the demo web app: the page at the root of the API
// prefix ("GET /" without one) and its files under "/app/". The page finds
// the API relative to its own address, so it works under any API_PREFIX.
type webAppModule struct{}

// Register adds the page and the assets; neither is rate limited (a page
// load fetches several files at once).
func (webAppModule) Register(r *transport.Registrar) error {
	files, err := fs.Sub(webFiles, "web")
	if err != nil {
		return err
	}
	page, err := fs.ReadFile(files, "index.html")
	if err != nil {
		return err
	}
	assets := r.Prefix() + "/app/"
	if err := r.Handle(transport.Route{
		Method: http.MethodGet, Path: "/{$}", Unthrottled: true,
		Handler: func(w http.ResponseWriter, req *http.Request) error {
			h := w.Header()
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'")
			_, err := w.Write(page)
			return err
		},
	}); err != nil {
		return err
	}
	return r.Handle(transport.Route{
		Method: http.MethodGet, Path: "/app/", Unthrottled: true,
		Handler: func(w http.ResponseWriter, req *http.Request) error {
			// Files only, no listing; the page itself is served at "/".
			name := strings.TrimPrefix(req.URL.Path, assets)
			if fi, err := fs.Stat(files, name); err != nil || fi.IsDir() || name == "index.html" {
				return transport.ErrRouteNotFound
			}
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, req, files, name)
			return nil
		},
	})
}
