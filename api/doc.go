// Package api holds the machine-readable descriptions of the rendezvous
// API as examples/server mounts it: an OpenAPI 3.1 document of every REST
// route (request bodies, success bodies, the error body and the codes each
// route can answer, the security schemes) and an AsyncAPI 3.0 document of
// the Socket.IO namespaces /rooms, /queue, /video and /chat and their
// events in both directions.
//
// The documents are embedded, so a server can serve them without files
// (examples/server answers GET /openapi.json and GET /asyncapi.json). Paths
// are relative to the server's API prefix. Tests keep them in step with the
// code: examples/server compares the documented routes with the mounted
// ones both ways and checks that every event constant is documented, and
// the nested module api/check validates the OpenAPI document with
// libopenapi and the AsyncAPI document against the AsyncAPI 3.0.0 JSON
// Schema.
package api
