// Package check validates the API descriptions of package api with
// maintained libraries, in a module of its own so that the main module's
// consumers never download them. The OpenAPI document (../openapi.json,
// read from disk) is parsed and validated as OpenAPI 3.1 by
// github.com/pb33f/libopenapi and github.com/pb33f/libopenapi-validator,
// and sample requests and responses are checked against its schemas. The
// AsyncAPI document (../asyncapi.json) is validated against the official
// AsyncAPI 3.0.0 JSON Schema, from the npm package @asyncapi/specs that
// `npm ci` installs here (pinned by package-lock.json), with
// github.com/santhosh-tekuri/jsonschema/v6. `make test` runs it (target
// apicheck).
package check
