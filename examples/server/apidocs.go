package main

import (
	"net/http"

	"github.com/rendezvous-go/rendezvous/api"
	"github.com/rendezvous-go/rendezvous/transport"
)

// apiDocsModule serves the API descriptions of package api under the API
// prefix: GET /openapi.json (OpenAPI 3.1, the REST routes) and
// GET /asyncapi.json (AsyncAPI 3.0, the Socket.IO namespaces).
type apiDocsModule struct{}

// Register adds the two routes.
func (apiDocsModule) Register(r *transport.Registrar) error {
	for _, rt := range []transport.Route{
		{Method: "GET", Path: "/openapi.json", Handler: serveDoc(api.OpenAPI())},
		{Method: "GET", Path: "/asyncapi.json", Handler: serveDoc(api.AsyncAPI())},
	} {
		if err := r.Handle(rt); err != nil {
			return err
		}
	}
	return nil
}

// serveDoc answers doc, a JSON document, as it is.
func serveDoc(doc []byte) transport.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
		return nil
	}
}
