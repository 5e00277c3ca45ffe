package check_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// asyncAPISchema is the official AsyncAPI 3.0.0 JSON Schema, installed
// from the npm package @asyncapi/specs (pinned by package-lock.json) by
// `npm ci` in this directory, which `make apicheck` runs.
var asyncAPISchema = filepath.Join("node_modules", "@asyncapi", "specs", "schemas", "3.0.0-without-$id.json")

// compileAsyncAPISchema compiles the AsyncAPI 3.0.0 JSON Schema. Without
// it the test is skipped, or fails when RENDEZVOUS_REQUIRE_INTEGRATION is
// "1".
func compileAsyncAPISchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(asyncAPISchema)
	if err != nil {
		if os.Getenv("RENDEZVOUS_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("the AsyncAPI JSON Schema is not installed (run `npm ci` in api/check): %v (RENDEZVOUS_REQUIRE_INTEGRATION=1)", err)
		}
		t.Skipf("the AsyncAPI JSON Schema is not installed: run `npm ci` in api/check (%v)", err)
	}
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("asyncapi-3.0.0.json", schema); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("asyncapi-3.0.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAsyncAPIDocumentIsValid validates ../asyncapi.json against the
// AsyncAPI 3.0.0 JSON Schema, and checks that the schema does catch a
// broken document.
func TestAsyncAPIDocumentIsValid(t *testing.T) {
	s := compileAsyncAPISchema(t)
	raw, err := os.ReadFile("../asyncapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("../asyncapi.json is not valid AsyncAPI 3.0.0: %v", err)
	}
	broken := bytes.Replace(raw, []byte(`"action": "send"`), []byte(`"action": "emit"`), 1)
	bad, err := jsonschema.UnmarshalJSON(bytes.NewReader(broken))
	if err != nil {
		t.Fatal(err)
	}
	if s.Validate(bad) == nil {
		t.Fatal(`an operation with action "emit" passed the schema`)
	}
}
