package check_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// load parses ../openapi.json with libopenapi.
func load(t *testing.T) libopenapi.Document {
	t.Helper()
	spec, err := os.ReadFile("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestOpenAPIDocumentIsValid: the document is OpenAPI 3.1, valid against
// the OpenAPI 3.1 JSON Schema, and its model builds with every reference
// resolved.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := load(t)
	if v := doc.GetSpecInfo().Version; v != "3.1.0" {
		t.Fatalf("version %q", v)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("model: %v", err)
	}
	if errs := model.Index.GetResolver().GetResolvingErrors(); len(errs) > 0 {
		t.Fatalf("unresolved references: %v", errs)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	ok, verrs := v.ValidateDocument()
	for _, e := range verrs {
		t.Errorf("%s: %s (line %d)", e.Message, e.Reason, e.SpecLine)
		for _, se := range e.SchemaValidationErrors {
			t.Errorf("  %s: %s", se.KeywordLocation, se.Reason)
		}
	}
	if !ok {
		t.Fatal("the document is not valid OpenAPI 3.1")
	}
}

// TestOperationsAreComplete: every operation has a unique operationId, a
// summary, a success response and the JSON error body on every error
// response, with the codes listed in its description.
func TestOperationsAreComplete(t *testing.T) {
	model, err := load(t).BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	n := 0
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			n++
			where := strings.ToUpper(method) + " " + path
			if op.OperationId == "" || op.Summary == "" {
				t.Errorf("%s: operationId %q, summary %q", where, op.OperationId, op.Summary)
			}
			if prev, dup := ids[op.OperationId]; dup {
				t.Errorf("%s: operationId %q also on %s", where, op.OperationId, prev)
			}
			ids[op.OperationId] = where
			checkResponses(t, where, op)
		}
	}
	if n < 38 {
		t.Errorf("%d operations", n)
	}
}

func checkResponses(t *testing.T, where string, op *v3.Operation) {
	t.Helper()
	success := false
	for code, resp := range op.Responses.Codes.FromOldest() {
		if code[0] == '2' {
			success = true
			continue
		}
		if !strings.Contains(resp.Description, "_") {
			t.Errorf("%s %s: the description lists no code: %q", where, code, resp.Description)
		}
		mt := resp.Content.GetOrZero("application/json")
		if mt == nil || mt.Schema == nil {
			t.Errorf("%s %s: no JSON error body", where, code)
			continue
		}
		s := mt.Schema.Schema()
		if len(s.AllOf) != 1 || s.AllOf[0].GetReference() != "#/components/schemas/Error" {
			t.Errorf("%s %s: the error body is not the Error schema", where, code)
		}
		if s.Properties.GetOrZero("code") == nil || len(s.Properties.GetOrZero("code").Schema().Enum) == 0 {
			t.Errorf("%s %s: no enum of codes", where, code)
		}
	}
	if !success {
		t.Errorf("%s: no success response", where)
	}
	if op.Responses.Codes.GetOrZero("500") == nil {
		t.Errorf("%s: no 500 response", where)
	}
}

// TestSchemasDescribeTraffic checks sample requests and responses, as the
// server sends and accepts them, against the document's schemas: the
// valid ones pass and the broken ones fail.
func TestSchemasDescribeTraffic(t *testing.T) {
	v, errs := validator.NewValidator(load(t))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	request := func(method, path, body string) *http.Request {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, path, r)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer eyJ.token")
		return req
	}
	for _, c := range []struct {
		method, path, body string
		valid              bool
	}{
		{"POST", "/rooms", `{"displayName":"Alice","maxUsers":4}`, true},
		{"POST", "/rooms", `{"displayName":"Alice","extra":1}`, false},
		{"POST", "/rooms", `{"maxUsers":4}`, false},
		{"POST", "/queue/join", `{"region":"eu","preferences":{"lang":"fr","ages":["18-25"]}}`, true},
		{"POST", "/queue/join", `{"region":"eu","preferences":{"nested":{"a":1}}}`, false},
		{"POST", "/sessions/s1/choice", `{"choice":"MATCH"}`, true},
		{"POST", "/sessions/s1/choice", `{"choice":"maybe"}`, false},
		{"POST", "/matches/m1/messages", `{"text":"hi","clientMessageId":"c-1"}`, true},
		{"PATCH", "/users/me", `{"gender":"woman","interests":["go"]}`, true},
		{"PATCH", "/users/me", `{"gender":"robot"}`, false},
		{"POST", "/auth/login", `{"email":"a@example.com","code":"123456"}`, true},
		{"POST", "/auth/login", `{"email":"a@example.com","phone":"+33600000000","code":"123456"}`, false},
		{"GET", "/tokens/transactions?limit=20", "", true},
		{"GET", "/tokens/transactions?limit=0", "", false},
	} {
		ok, verrs := v.ValidateHttpRequest(request(c.method, c.path, c.body))
		if ok != c.valid {
			t.Errorf("%s %s %s: valid %v, want %v (%v)", c.method, c.path, c.body, ok, c.valid, messages(verrs))
		}
	}
	for _, c := range []struct {
		method, path, reqBody string
		status                int
		body                  string
		valid                 bool
	}{
		{"POST", "/rooms", `{"displayName":"Alice"}`, 201, `{"roomCode":"K7QX","token":"t","userId":"u1"}`, true},
		{"POST", "/rooms", `{"displayName":""}`, 400,
			`{"statusCode":400,"error":"Bad Request","message":"displayName is empty","code":"INVALID_DISPLAY_NAME"}`, true},
		{"POST", "/rooms", `{"displayName":""}`, 400,
			`{"statusCode":400,"error":"Bad Request","message":"m","code":"ROOM_NOT_FOUND"}`, false},
		{"POST", "/queue/join", `{"region":"eu"}`, 403,
			`{"statusCode":403,"error":"Forbidden","message":"banned","code":"USER_BANNED","until":"2026-12-02T10:00:00Z"}`, true},
		{"GET", "/queue/status", "", 200, `{"status":"matched","sessionId":"s1"}`, true},
		{"GET", "/sessions/s1", "", 200, `{"sessionId":"s1","channelName":"session_s1","startAt":"2026-12-01T21:56:15.123Z","endAt":"2026-12-01T21:57:00Z",` +
			`"durationSeconds":45,"expiresAt":"2026-12-01T21:58:15Z","rtc":null,"rtm":null,"status":"live"}`, true},
		{"GET", "/matches", "", 200, `{"matches":[{"id":"m1","createdAt":"2026-12-01T21:56:15Z","lastMessage":null,` +
			`"partner":{"id":"u2","deleted":true,"displayName":"","bio":"","interests":[],"photoUrls":[]}}]}`, true},
		{"GET", "/healthz", "", 200, `{"status":"ok"}`, true},
		{"GET", "/healthz", "", 200, `{"status":"fine"}`, false},
	} {
		req := request(c.method, c.path, c.reqBody)
		res := &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader([]byte(c.body)))}
		ok, verrs := v.ValidateHttpResponse(req, res)
		if ok != c.valid {
			t.Errorf("%s %s → %d %s: valid %v, want %v (%v)", c.method, c.path, c.status, c.body, ok, c.valid, messages(verrs))
		}
	}
}

func messages[E interface{ Error() string }](errs []E) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}
