package transport_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/moderation"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

const (
	adminToken = "admin-secret-admin-secret"
	someUser   = "0b9d3c1e-6f4a-4c2b-9a8e-1d2f3a4b5c6d"
)

// webhookCall is one HandleWebhook seen by fakeModeration.
type webhookCall struct {
	body                 string
	signature, timestamp string
}

// modCall is one operator call seen by fakeModeration.
type modCall struct {
	method, userID string
	limit          int
	d              time.Duration
}

// fakeModeration is a ModerationService that records its calls and
// answers with its fields; err fails every call.
type fakeModeration struct {
	recorder
	events   []moderation.Event
	ban      moderation.Ban
	lifted   bool
	err      error
	webhooks []webhookCall
	calls    []modCall
}

func (f *fakeModeration) HandleWebhook(_ context.Context, body []byte, signature, timestamp string) (err error) {
	f.do(func() {
		f.webhooks = append(f.webhooks, webhookCall{string(body), signature, timestamp})
		err = f.err
	})
	return err
}

func (f *fakeModeration) Events(_ context.Context, userID string, limit int) (ev []moderation.Event, err error) {
	f.do(func() {
		f.calls = append(f.calls, modCall{method: "Events", userID: userID, limit: limit})
		ev, err = f.events, f.err
	})
	return ev, err
}

func (f *fakeModeration) BanUser(_ context.Context, userID string, d time.Duration) (b moderation.Ban, err error) {
	f.do(func() {
		f.calls = append(f.calls, modCall{method: "BanUser", userID: userID, d: d})
		b, err = f.ban, f.err
	})
	return b, err
}

func (f *fakeModeration) LiftBan(_ context.Context, userID string) (lifted bool, err error) {
	f.do(func() {
		f.calls = append(f.calls, modCall{method: "LiftBan", userID: userID})
		lifted, err = f.lifted, f.err
	})
	return lifted, err
}

func (f *fakeModeration) take() (calls []modCall) {
	f.do(func() { calls, f.calls = f.calls, nil })
	return calls
}

func (f *fakeModeration) set(fn func()) { f.do(fn) }

func newModerationStack(t testing.TB, token string, throttle int) (*stack, *fakeModeration) {
	t.Helper()
	f := &fakeModeration{}
	broker := memory.NewBroker()
	cfg := transport.Config{
		Modules: []transport.Module{transport.ModerationModule(transport.ModerationConfig{Service: f, AdminToken: token})},
		Broker:  broker, EventRate: -1, MaxSocketsPerUser: -1, ConnectRate: -1,
	}
	if throttle > 0 {
		cfg.Limiter, cfg.ThrottleLimit, cfg.ThrottleWindow = memory.NewRateLimiter(nil), throttle, time.Hour
	}
	tr, err := transport.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &stack{URL: serve(t, tr), T: tr, Broker: broker}, f
}

func TestModerationWebhook(t *testing.T) {
	s, f := newModerationStack(t, adminToken, 2)
	url := s.URL + "/webhooks/hive"
	// The throttle is on for the other routes.
	for i := 0; i < 2; i++ {
		if r := do(t, "GET", s.URL+"/moderation/events", "", bearerH(adminToken)...); r.Status != 200 {
			t.Fatalf("events %d: %d %s", i, r.Status, r.Body)
		}
	}
	wantError(t, do(t, "GET", s.URL+"/moderation/events", "", bearerH(adminToken)...), 429, "RATE_LIMITED")
	// Not throttled, the raw body and both headers go as they are.
	for i := 0; i < 5; i++ {
		r := do(t, "POST", url, ` {"sessionId":"s1"} `, "x-hive-signature", "v1=abc", "X-Hive-Timestamp", "1700000000")
		if r.Status != 200 || string(r.Body) != `{"received":true}`+"\n" {
			t.Fatalf("delivery %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := do(t, "POST", url, "not json at all"); r.Status != 200 {
		t.Fatalf("a body the service accepts: %d %s", r.Status, r.Body)
	}
	f.read(func() {
		if len(f.webhooks) != 6 {
			t.Fatalf("webhooks %+v", f.webhooks)
		}
		if w := f.webhooks[0]; w != (webhookCall{` {"sessionId":"s1"} `, "v1=abc", "1700000000"}) {
			t.Fatalf("webhook %+v", w)
		}
		if w := f.webhooks[5]; w != (webhookCall{"not json at all", "", ""}) {
			t.Fatalf("webhook without headers %+v", w)
		}
	})

	// The body limit: MaxWebhookBytes passes, one more byte does not.
	if r := do(t, "POST", url, strings.Repeat("a", transport.MaxWebhookBytes)); r.Status != 200 {
		t.Fatalf("a body of MaxWebhookBytes: %d %.200s", r.Status, r.Body)
	}
	wantError(t, do(t, "POST", url, strings.Repeat("a", transport.MaxWebhookBytes+1)), 400, "BODY_TOO_LARGE")
	f.read(func() {
		if len(f.webhooks) != 7 {
			t.Fatalf("a too large body reached the service: %d calls", len(f.webhooks))
		}
	})

	// The service's errors keep their status and code.
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{rv.ErrInvalidSignature.WithKind(rv.KindUnauthenticated), 401, "INVALID_SIGNATURE"},
		{moderation.ErrInvalidWebhookBody, 400, "INVALID_MODERATION_WEBHOOK"},
		{moderation.ErrWebhookUnavailable, 503, "MODERATION_UNAVAILABLE"},
		{errors.New("boom"), 500, "UNKNOWN_ERROR"},
	} {
		f.set(func() { f.err = tc.err })
		wantError(t, do(t, "POST", url, `{}`), tc.status, tc.code)
	}
}

// Without an AdminToken the operator routes do not exist.
func TestModerationAdminRoutesNeedAToken(t *testing.T) {
	s, f := newModerationStack(t, "", 0)
	for _, rt := range [][2]string{{"GET", "/moderation/events"}, {"POST", "/moderation/bans/" + someUser}, {"DELETE", "/moderation/bans/" + someUser}} {
		wantError(t, do(t, rt[0], s.URL+rt[1], "", bearerH("")...), 404, "ROUTE_NOT_FOUND")
		wantError(t, do(t, rt[0], s.URL+rt[1], "", bearerH(adminToken)...), 404, "ROUTE_NOT_FOUND")
	}
	if got := f.take(); len(got) != 0 {
		t.Fatalf("calls %+v", got)
	}
}

func TestModerationAdminRoutes(t *testing.T) {
	s, f := newModerationStack(t, adminToken, 0)
	admin := bearerH(adminToken)
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	f.set(func() {
		f.events = []moderation.Event{{ID: "e1", UserID: someUser, SessionID: "s1", Reason: "nudity", Labels: []string{"yes_nudity"}, DeliveryKey: "secret-key", ReceivedAt: at}}
		f.ban = moderation.Ban{UserID: someUser, Until: at}
		f.lifted = true
	})

	// A wrong, missing or other-scheme token: 401 ADMIN_TOKEN_INVALID,
	// and nothing reaches the service.
	for _, h := range [][]string{nil, bearerH("wrong"), bearerH(adminToken + "x"), bearerH(adminToken[:len(adminToken)-1]), {"Authorization", "Basic " + adminToken}, {"Authorization", adminToken}} {
		for _, rt := range [][2]string{{"GET", "/moderation/events"}, {"POST", "/moderation/bans/" + someUser}, {"DELETE", "/moderation/bans/" + someUser}} {
			wantError(t, do(t, rt[0], s.URL+rt[1], "", h...), 401, "ADMIN_TOKEN_INVALID")
		}
	}
	if got := f.take(); len(got) != 0 {
		t.Fatalf("unauthorized calls reached the service: %+v", got)
	}

	r := do(t, "GET", s.URL+"/moderation/events?userId="+someUser+"&limit=10", "", admin...)
	if r.Status != 200 || string(r.Body) != `{"events":[{"id":"e1","userId":"`+someUser+`","sessionId":"s1","reason":"nudity","labels":["yes_nudity"],"receivedAt":"2026-12-02T10:00:00Z"}]}`+"\n" {
		t.Fatalf("events: %d %s", r.Status, r.Body)
	}
	f.set(func() { f.events = nil })
	r = do(t, "GET", s.URL+"/moderation/events", "", admin...)
	if r.Status != 200 || string(r.Body) != `{"events":[]}`+"\n" {
		t.Fatalf("no events: %d %s", r.Status, r.Body)
	}
	r = do(t, "POST", s.URL+"/moderation/bans/"+someUser, `{"hours":1.5}`, admin...)
	if r.Status != 200 || string(r.Body) != `{"userId":"`+someUser+`","until":"2026-12-02T10:00:00Z"}`+"\n" {
		t.Fatalf("ban: %d %s", r.Status, r.Body)
	}
	for _, body := range []string{"", "{}", `{"hours":null}`} {
		if r := do(t, "POST", s.URL+"/moderation/bans/"+someUser, body, admin...); r.Status != 200 {
			t.Fatalf("ban with %q: %d %s", body, r.Status, r.Body)
		}
	}
	if r := do(t, "POST", s.URL+"/moderation/bans/"+someUser, `{"hours":8760}`, admin...); r.Status != 200 {
		t.Fatalf("ban of 8760 hours: %d %s", r.Status, r.Body)
	}
	r = do(t, "DELETE", s.URL+"/moderation/bans/"+someUser, "", admin...)
	if r.Status != 200 || string(r.Body) != `{"lifted":true}`+"\n" {
		t.Fatalf("lift: %d %s", r.Status, r.Body)
	}
	f.set(func() { f.lifted = false })
	if r := do(t, "DELETE", s.URL+"/moderation/bans/"+someUser, "", admin...); string(r.Body) != `{"lifted":false}`+"\n" {
		t.Fatalf("lift without a ban: %d %s", r.Status, r.Body)
	}
	want := []modCall{
		{method: "Events", userID: someUser, limit: 10},
		{method: "Events"},
		{method: "BanUser", userID: someUser, d: 90 * time.Minute},
		{method: "BanUser", userID: someUser},
		{method: "BanUser", userID: someUser},
		{method: "BanUser", userID: someUser},
		{method: "BanUser", userID: someUser, d: 8760 * time.Hour},
		{method: "LiftBan", userID: someUser},
		{method: "LiftBan", userID: someUser},
	}
	if got := f.take(); len(got) != len(want) {
		t.Fatalf("calls %+v", got)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("call %d: %+v, want %+v", i, got[i], want[i])
			}
		}
	}

	// Bad input is a clear 400 that never reaches the service.
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "userId=nope", "userId=" + someUser + "0", "userId=" + strings.ReplaceAll(someUser, "-", "_")} {
		wantError(t, do(t, "GET", s.URL+"/moderation/events?"+q, "", admin...), 400, "INVALID_QUERY")
	}
	for _, id := range []string{"nope", someUser[:35], someUser + "a", strings.Replace(someUser, "0", "g", 1)} {
		wantError(t, do(t, "POST", s.URL+"/moderation/bans/"+id, "", admin...), 400, "INVALID_QUERY")
		wantError(t, do(t, "DELETE", s.URL+"/moderation/bans/"+id, "", admin...), 400, "INVALID_QUERY")
	}
	for _, body := range []string{`{"hours":0}`, `{"hours":-1}`, `{"hours":8760.5}`, `{"hours":1e9}`, `{"hours":"24"}`, `{"hours":1e400}`, `{"days":1}`, `{"hours":1,"hours":2}`, `[]`, `{"hours":1e-30}`} {
		r := do(t, "POST", s.URL+"/moderation/bans/"+someUser, body, admin...)
		wantError(t, r, 400, "INVALID_BODY")
		if body == `{"hours":0}` && !strings.Contains(r.errorBody(t).Message, "8760") {
			t.Errorf("hours 0: message %q", r.errorBody(t).Message)
		}
	}
	if got := f.take(); len(got) != 0 {
		t.Fatalf("bad requests reached the service: %+v", got)
	}

	// The service's errors keep their status and code.
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{rv.ErrStoreUnavailable, 503, "STORE_UNAVAILABLE"},
		{errors.New("boom"), 500, "UNKNOWN_ERROR"},
	} {
		f.set(func() { f.err = tc.err })
		wantError(t, do(t, "GET", s.URL+"/moderation/events", "", admin...), tc.status, tc.code)
		wantError(t, do(t, "POST", s.URL+"/moderation/bans/"+someUser, "", admin...), tc.status, tc.code)
		wantError(t, do(t, "DELETE", s.URL+"/moderation/bans/"+someUser, "", admin...), tc.status, tc.code)
	}
}

func TestChatAndModerationModuleConfig(t *testing.T) {
	for name, m := range map[string]transport.Module{
		"chat without a Service":        transport.ChatModule(transport.ChatConfig{Authenticator: datingTokens{}}),
		"chat without an Authenticator": transport.ChatModule(transport.ChatConfig{Service: &fakeChat{}}),
		"moderation without a Service":  transport.ModerationModule(transport.ModerationConfig{AdminToken: adminToken}),
	} {
		if _, err := transport.New(transport.Config{Modules: []transport.Module{m}, Broker: memory.NewBroker()}); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
