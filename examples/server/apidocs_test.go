package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rendezvous-go/rendezvous/api"
	"github.com/rendezvous-go/rendezvous/chat"
	"github.com/rendezvous-go/rendezvous/matchmaking"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/optin"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/session"
)

// everyRoute is the configuration that mounts every route: the operator
// routes need ADMIN_TOKEN, and the Hive webhook is configured.
var everyRoute = map[string]string{
	"ADMIN_TOKEN":         "an-admin-token-of-32-bytes-long!",
	"HIVE_WEBHOOK_SECRET": "a-hive-webhook-secret",
}

// mountedRoutes builds the app on the embedded default with vars and
// returns its REST routes as "METHOD /path" under the prefix.
func mountedRoutes(t *testing.T, vars map[string]string) []string {
	t.Helper()
	cfg, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	var out []string
	for _, r := range a.transport.Routes() {
		out = append(out, r.Method+" "+r.Pattern)
	}
	return out
}

// documentedRoutes returns the OpenAPI document's operations as
// "METHOD /path".
func documentedRoutes(t *testing.T) []string {
	t.Helper()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	var out []string
	for path, item := range doc.Paths {
		for m := range item {
			if slices.Contains(methods, m) {
				out = append(out, strings.ToUpper(m)+" "+path)
			}
		}
	}
	return out
}

// openAPIPath is the OpenAPI path of a ServeMux pattern: "/{$}" (the exact
// path) is "/", and a subtree "/app/" is "/app/{path}".
func openAPIPath(pattern string) string {
	if p, ok := strings.CutSuffix(pattern, "{$}"); ok {
		return p
	}
	if len(pattern) > 1 && strings.HasSuffix(pattern, "/") {
		return pattern + "{path}"
	}
	return pattern
}

// TestOpenAPIMatchesMountedRoutes fails when a mounted route is not in
// api/openapi.json or a documented route is not mounted.
func TestOpenAPIMatchesMountedRoutes(t *testing.T) {
	documented := documentedRoutes(t)
	for _, prefix := range []string{"", "/api"} {
		vars := map[string]string{"API_PREFIX": prefix}
		for k, v := range everyRoute {
			vars[k] = v
		}
		var mounted []string
		for _, r := range mountedRoutes(t, vars) {
			method, pattern, _ := strings.Cut(r, " ")
			path, ok := strings.CutPrefix(pattern, prefix)
			if !ok {
				t.Fatalf("prefix %q: route %s outside the prefix", prefix, r)
			}
			mounted = append(mounted, method+" "+openAPIPath(path))
		}
		if d := diff(mounted, documented); len(d) > 0 {
			t.Errorf("prefix %q: mounted but not in api/openapi.json: %v", prefix, d)
		}
		if d := diff(documented, mounted); len(d) > 0 {
			t.Errorf("prefix %q: in api/openapi.json but not mounted: %v", prefix, d)
		}
	}
	// The operator routes are the only ones that depend on configuration.
	operator := diff(mountedRoutes(t, everyRoute), mountedRoutes(t, nil))
	want := []string{"DELETE /moderation/bans/{userId}", "GET /moderation/events", "POST /moderation/bans/{userId}"}
	if !slices.Equal(operator, want) {
		t.Errorf("routes mounted only with ADMIN_TOKEN: %v, want %v", operator, want)
	}
}

// diff returns the elements of a that are not in b, sorted.
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// TestAsyncAPIDocumentsEveryEvent checks the AsyncAPI document's structure
// with encoding/json (api/check validates it against the AsyncAPI JSON
// Schema) and that every event constant of the feature packages is a
// message of its namespace's channel.
func TestAsyncAPIDocumentsEveryEvent(t *testing.T) {
	type ref struct {
		Ref string `json:"$ref"`
	}
	var doc struct {
		AsyncAPI string `json:"asyncapi"`
		Info     struct {
			Title, Version string
		} `json:"info"`
		Channels map[string]struct {
			Address  string `json:"address"`
			Messages map[string]struct {
				Name    string          `json:"name"`
				Payload json.RawMessage `json:"payload"`
			} `json:"messages"`
		} `json:"channels"`
		Operations map[string]struct {
			Action   string `json:"action"`
			Channel  ref    `json:"channel"`
			Messages []ref  `json:"messages"`
			Reply    *struct {
				Channel  ref   `json:"channel"`
				Messages []ref `json:"messages"`
			} `json:"reply"`
		} `json:"operations"`
	}
	raw := api.AsyncAPI()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.AsyncAPI != "3.0.0" || doc.Info.Title == "" || doc.Info.Version == "" {
		t.Fatalf("asyncapi %q, info %+v", doc.AsyncAPI, doc.Info)
	}
	// Every $ref resolves inside the document.
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	checkRefs(t, tree, tree)

	events := []struct {
		ns     string
		events []string
	}{
		{rooms.Namespace, []string{
			rooms.EventClose, rooms.EventLeave, rooms.EventKick, rooms.EventToggleLock, rooms.EventTransferHost,
			rooms.EventState, rooms.EventClosed, rooms.EventHostUpdated, rooms.EventLockToggled,
			rooms.EventUserConnected, rooms.EventUserDisconnected, rooms.EventUserKicked, rooms.EventUserLeft, rooms.EventError,
		}},
		{matchmaking.Namespace, []string{matchmaking.EventMatch, matchmaking.EventLeft}},
		{session.Namespace, []string{session.EventStart, session.EventEnd}},
		{optin.Namespace, []string{optin.EventMutual, optin.EventNonMutual}},
		{chat.Namespace, []string{chat.EventMessage, chat.EventMatchRemoved}},
		{moderation.Namespace, []string{moderation.EventAction}},
	}
	byAddress := map[string]map[string]bool{}
	for key, ch := range doc.Channels {
		names := map[string]bool{}
		for id, m := range ch.Messages {
			if m.Name == "" {
				t.Errorf("channel %s: message %s has no name", key, id)
			}
			names[m.Name] = true
		}
		byAddress[ch.Address] = names
	}
	for _, e := range events {
		ns := e.ns
		names, ok := byAddress[ns]
		if !ok {
			t.Errorf("no channel for namespace %s", ns)
			continue
		}
		for _, ev := range e.events {
			if !names[ev] {
				t.Errorf("namespace %s: event %q is not documented", ns, ev)
			}
		}
	}
	if len(doc.Channels) != 4 {
		t.Errorf("%d channels, want /rooms, /queue, /video, /chat", len(doc.Channels))
	}
	// Every message of a channel is used by an operation on that channel.
	used := map[string]bool{}
	for id, op := range doc.Operations {
		if op.Action != "send" && op.Action != "receive" {
			t.Errorf("operation %s: action %q", id, op.Action)
		}
		refs := op.Messages
		if op.Reply != nil {
			refs = append(refs, op.Reply.Messages...)
		}
		for _, m := range refs {
			if !strings.HasPrefix(m.Ref, op.Channel.Ref+"/messages/") {
				t.Errorf("operation %s: message %s is not of its channel %s", id, m.Ref, op.Channel.Ref)
			}
			used[m.Ref] = true
		}
	}
	for key, ch := range doc.Channels {
		for id := range ch.Messages {
			if !used["#/channels/"+key+"/messages/"+id] {
				t.Errorf("message %s of channel %s is in no operation", id, key)
			}
		}
	}
}

// checkRefs fails for a "$ref" of node that does not resolve in root.
func checkRefs(t *testing.T, root, node any) {
	t.Helper()
	switch n := node.(type) {
	case map[string]any:
		if r, ok := n["$ref"].(string); ok {
			target := root
			for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
				m, ok := target.(map[string]any)
				if !ok || m[part] == nil {
					t.Errorf("$ref %s does not resolve", r)
					return
				}
				target = m[part]
			}
		}
		for _, v := range n {
			checkRefs(t, root, v)
		}
	case []any:
		for _, v := range n {
			checkRefs(t, root, v)
		}
	}
}

// TestServesAPIDocuments: the server answers both documents as JSON,
// under the prefix.
func TestServesAPIDocuments(t *testing.T) {
	base, _ := start(t, map[string]string{"API_PREFIX": "/api"})
	for path, want := range map[string][]byte{"/api/openapi.json": api.OpenAPI(), "/api/asyncapi.json": api.AsyncAPI()} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !bytes.Equal(body, want) {
			t.Errorf("GET %s: %d %q, %d bytes", path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
	}
}

// TestOpenAPICodesExist: every error code that api/openapi.json lists is
// a code of the module (a string literal of its non-test source), so that
// a typo in the document cannot go unnoticed.
func TestOpenAPICodesExist(t *testing.T) {
	var src strings.Builder
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || (path != "../.." && strings.HasPrefix(d.Name(), "."))) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			src.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := src.String()
	var codes []string
	var walk func(v any)
	walk = func(v any) {
		switch n := v.(type) {
		case map[string]any:
			if p, ok := n["properties"].(map[string]any); ok {
				if c, ok := p["code"].(map[string]any); ok {
					if e, ok := c["enum"].([]any); ok {
						for _, x := range e {
							codes = append(codes, x.(string))
						}
					}
				}
			}
			for _, x := range n {
				walk(x)
			}
		case []any:
			for _, x := range n {
				walk(x)
			}
		}
	}
	var tree any
	if err := json.Unmarshal(api.OpenAPI(), &tree); err != nil {
		t.Fatal(err)
	}
	walk(tree)
	if len(codes) < 100 {
		t.Fatalf("only %d codes listed", len(codes))
	}
	for _, c := range codes {
		if !strings.Contains(all, `"`+c+`"`) {
			t.Errorf("code %s is not defined in the module", c)
		}
	}
}
