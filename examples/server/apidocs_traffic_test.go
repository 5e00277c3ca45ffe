package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rendezvous-go/rendezvous/internal/uuid"

	"github.com/rendezvous-go/rendezvous/api"
)

// openAPIDoc is what the traffic test reads of api/openapi.json.
type openAPIDoc struct {
	Paths      map[string]map[string]openAPIOp `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type openAPIOp struct {
	Responses map[string]struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

// route returns the documented path template that path matches.
func (d *openAPIDoc) route(path string) string {
	segs := strings.Split(path, "/")
	for tmpl := range d.Paths {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		ok := true
		for i := range ts {
			if ts[i] != segs[i] && !strings.HasPrefix(ts[i], "{") {
				ok = false
				break
			}
		}
		if ok {
			return tmpl
		}
	}
	return ""
}

// schemaFacts returns the required keys and the enum of "code" of a
// response schema, following $ref and allOf.
func (d *openAPIDoc) schemaFacts(raw json.RawMessage) (required, codes []string) {
	var s struct {
		Ref        string            `json:"$ref"`
		AllOf      []json.RawMessage `json:"allOf"`
		Required   []string          `json:"required"`
		Properties map[string]struct {
			Enum []string `json:"enum"`
		} `json:"properties"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return nil, nil
	}
	if s.Ref != "" {
		return d.schemaFacts(d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")])
	}
	required = s.Required
	codes = s.Properties["code"].Enum
	for _, sub := range s.AllOf {
		r, c := d.schemaFacts(sub)
		required = append(required, r...)
		codes = append(codes, c...)
	}
	return required, codes
}

// TestServerTrafficMatchesOpenAPI drives every documented route of a real
// server, with good and bad requests, and checks each answer against
// api/openapi.json: its status is documented for the route, an error's code
// is in the route's list for that status, and a JSON body has the
// schema's required keys. It also checks that every documented operation
// was exercised.
func TestServerTrafficMatchesOpenAPI(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"SIGNUP_BONUS_TOKENS": "3"}
	for k, v := range everyRoute {
		vars[k] = v
	}
	base, _ := start(t, vars)
	admin := "Bearer " + everyRoute["ADMIN_TOKEN"]
	exercised := map[string]bool{}

	do := func(method, path, body string, header ...string) (int, []byte, *http.Response) {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+path, r)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()

		where := method + " " + path
		p, _, _ := strings.Cut(path, "?")
		tmpl := doc.route(p)
		op, ok := doc.Paths[tmpl][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s: not documented", where)
			return res.StatusCode, b, res
		}
		exercised[method+" "+tmpl] = true
		resp, ok := op.Responses[strconv.Itoa(res.StatusCode)]
		if !ok {
			t.Errorf("%s: status %d is not documented for %s %s (%s)", where, res.StatusCode, method, tmpl, b)
			return res.StatusCode, b, res
		}
		mt, hasBody := resp.Content["application/json"]
		if !hasBody {
			ct, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";")
			if _, ok := resp.Content[ct]; ok {
				return res.StatusCode, b, res // a documented non-JSON body (the demo's files)
			}
			if len(b) > 0 {
				t.Errorf("%s: %d has a body the document does not describe: %s", where, res.StatusCode, b)
			}
			return res.StatusCode, b, res
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%s: %d body is not a JSON object: %s", where, res.StatusCode, b)
			return res.StatusCode, b, res
		}
		required, codes := doc.schemaFacts(mt.Schema)
		for _, k := range required {
			if _, ok := got[k]; !ok {
				t.Errorf("%s: %d body lacks %q: %s", where, res.StatusCode, k, b)
			}
		}
		if res.StatusCode >= 400 {
			var code string
			_ = json.Unmarshal(got["code"], &code)
			if !slices.Contains(codes, code) {
				t.Errorf("%s: %d code %q is not among the documented %v", where, res.StatusCode, code, codes)
			}
		}
		return res.StatusCode, b, res
	}
	field := func(b []byte, k string) string {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		s, _ := m[k].(string)
		return s
	}

	// Rooms.
	_, b, _ := do("POST", "/rooms", `{"displayName":"Alice"}`)
	code, roomToken := field(b, "roomCode"), field(b, "token")
	do("POST", "/rooms", `{"displayName":""}`)
	do("POST", "/rooms", `{"displayName":"A","maxUsers":0}`)
	do("POST", "/rooms", `{"displayName":`)
	do("GET", "/rooms/"+code, "")
	do("GET", "/rooms/ZZZZZZ", "")
	do("POST", "/rooms/"+code+"/join", `{"displayName":"Bob"}`)
	do("POST", "/rooms/ZZZZZZ/join", `{"displayName":"Bob"}`)
	do("POST", "/rooms/"+code+"/rejoin", "", "Authorization", "Bearer "+roomToken)
	do("POST", "/rooms/"+code+"/rejoin", "")
	do("GET", "/rooms/"+code, "", "Origin", "https://elsewhere.example") // allowed: CORS_ORIGINS is *
	do("GET", "/rooms/"+strings.ToLower(code), "")
	do("GET", "/rooms/not-a-code!", "")
	_, small, _ := do("POST", "/rooms", `{"displayName":"Host","maxUsers":1}`)
	do("POST", "/rooms/"+field(small, "roomCode")+"/join", `{"displayName":"Late"}`)
	do("POST", "/rooms/"+code+"/rejoin", "", "Authorization", "Bearer "+field(small, "token"))

	// Accounts.
	_, b, res := do("POST", "/auth/signup-anonymous", "")
	access := "Bearer " + field(b, "accessToken")
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == "refresh_token" {
			cookie = c.Name + "=" + c.Value
		}
	}
	do("POST", "/auth/refresh", "")
	_, b, _ = do("POST", "/auth/refresh", "", "Cookie", cookie)
	do("GET", "/users/me", "", "Authorization", access)
	do("GET", "/users/me", "")
	do("GET", "/users/me", "", "Authorization", "Bearer nonsense")
	do("PATCH", "/users/me", `{"bio":"hi","gender":"woman"}`, "Authorization", access)
	do("PATCH", "/users/me", `{"age":5}`, "Authorization", access)
	do("PATCH", "/users/me", `{"Age":20}`, "Authorization", access)
	do("POST", "/auth/verify-phone", `{"phone":"not a phone"}`, "Authorization", access)
	do("POST", "/auth/verify-phone", `{"phone":"+33612345678"}`, "Authorization", access)
	do("POST", "/auth/verify-email", `{"email":"a@example.com","code":"000000"}`, "Authorization", access)
	do("POST", "/auth/login/start", `{"email":"nobody"}`)
	do("POST", "/auth/login/start", `{"email":"nobody@example.com"}`)
	do("POST", "/auth/login", `{"email":"nobody@example.com","code":"000000"}`)
	do("POST", "/auth/login", `{"code":"000000"}`)
	do("POST", "/auth/verify-email", `{"phone":"+33612345678"}`, "Authorization", access)
	do("POST", "/auth/signup-anonymous", `{"x":1}`)

	// Wallet.
	do("GET", "/tokens/packs", "")
	do("GET", "/tokens/balance", "", "Authorization", access)
	do("GET", "/tokens/transactions?limit=5", "", "Authorization", access)
	do("GET", "/tokens/transactions?limit=0", "", "Authorization", access)
	do("GET", "/tokens/transactions?cursor=nonsense", "", "Authorization", access)
	do("POST", "/tokens/purchase", `{"packId":"nope"}`, "Authorization", access)
	do("POST", "/tokens/purchase", `{"packId":"starter"}`, "Authorization", access)
	do("POST", "/webhooks/stripe", `{"id":"evt_1"}`, "Stripe-Signature", "t=1,v1=00")

	// Dating.
	do("POST", "/queue/join", `{"region":"!!"}`, "Authorization", access)
	do("POST", "/queue/join", `{"region":"eu","preferences":{"lang":"fr"}}`, "Authorization", access)
	do("POST", "/queue/join", `{"region":"eu","preferences":{"lang":"fr"}}`, "Authorization", access)
	do("GET", "/queue/status", "", "Authorization", access)
	do("DELETE", "/queue/leave", "", "Authorization", access)
	do("DELETE", "/queue/leave", "", "Authorization", access)
	do("GET", "/queue/status", "", "Authorization", access)
	missing := uuid.New()
	do("GET", "/sessions/"+missing, "", "Authorization", access)
	do("POST", "/sessions/"+missing+"/end", "", "Authorization", access)
	do("POST", "/sessions/"+missing+"/choice", `{"choice":"MATCH"}`, "Authorization", access)
	do("POST", "/sessions/"+missing+"/choice", `{"choice":"maybe"}`, "Authorization", access)
	do("GET", "/sessions/not-a-uuid", "", "Authorization", access)
	do("POST", "/sessions/not-a-uuid/end", `{}`, "Authorization", access)
	do("POST", "/sessions/not-a-uuid/choice", `{"choice":"PASS"}`, "Authorization", access)
	do("POST", "/queue/join", `{"region":"eu","preferences":[1]}`, "Authorization", access)
	do("POST", "/queue/join", `{}`, "Authorization", access)

	// Chat.
	do("GET", "/matches", "", "Authorization", access)
	do("GET", "/matches?limit=500", "", "Authorization", access)
	do("GET", "/matches/"+missing+"/messages", "", "Authorization", access)
	do("POST", "/matches/"+missing+"/messages", `{"text":"hi"}`, "Authorization", access)
	do("POST", "/matches/"+missing+"/messages", `{"text":""}`, "Authorization", access)
	do("DELETE", "/matches/"+missing, "", "Authorization", access)
	do("GET", "/matches/not-a-uuid/messages?before=x", "", "Authorization", access)
	do("POST", "/matches/not-a-uuid/messages", `{"text":"hi"}`, "Authorization", access)
	do("DELETE", "/matches/not-a-uuid", "", "Authorization", access)
	do("GET", "/matches?cursor=nonsense", "", "Authorization", access)

	// Moderation.
	do("POST", "/webhooks/hive", `{"sessionId":"s"}`, "x-hive-signature", "00", "x-hive-timestamp", "1")
	do("POST", "/webhooks/hive", `not json`)
	do("POST", "/webhooks/stripe", `{}`)
	do("POST", "/moderation/bans/"+uuid.New(), `{"hours":1}`, "Authorization", "Bearer wrong")
	do("GET", "/moderation/events", "")
	do("GET", "/moderation/events?limit=5", "", "Authorization", admin)
	do("GET", "/moderation/events?userId=nope", "", "Authorization", admin)
	user := uuid.New()
	do("POST", "/moderation/bans/"+user, `{"hours":1}`, "Authorization", admin)
	do("POST", "/moderation/bans/"+user, `{"hours":-1}`, "Authorization", admin)
	do("DELETE", "/moderation/bans/"+user, "", "Authorization", admin)
	do("DELETE", "/moderation/bans/nope", "", "Authorization", admin)

	// Operations.
	do("GET", "/healthz", "")
	// The demo web app.
	do("GET", "/", "")
	do("GET", "/app/app.js", "")
	do("GET", "/app/style.css", "")
	do("GET", "/app/nothing-here.js", "")
	do("GET", "/readyz", "")
	do("GET", "/openapi.json", "")
	do("GET", "/asyncapi.json", "")

	// Sign-out last.
	do("POST", "/auth/logout", "", "Cookie", cookie)
	do("POST", "/auth/logout-all", "", "Authorization", access)
	_, b, _ = do("POST", "/auth/signup-anonymous", "")
	do("DELETE", "/users/me", "", "Authorization", "Bearer "+field(b, "accessToken"))

	for path, item := range doc.Paths {
		for m := range item {
			if !exercised[strings.ToUpper(m)+" "+path] {
				t.Errorf("%s %s was not exercised", strings.ToUpper(m), path)
			}
		}
	}
}
