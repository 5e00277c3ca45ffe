package api

import (
	"bytes"
	_ "embed" // the documents
)

var (
	//go:embed openapi.json
	openAPI []byte
	//go:embed asyncapi.json
	asyncAPI []byte
)

// OpenAPI returns the OpenAPI 3.1 document of the REST API, as JSON. Each
// call returns a fresh copy.
func OpenAPI() []byte { return bytes.Clone(openAPI) }

// AsyncAPI returns the AsyncAPI 3.0 document of the Socket.IO namespaces,
// as JSON. Each call returns a fresh copy.
func AsyncAPI() []byte { return bytes.Clone(asyncAPI) }
