package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/billing"
	"github.com/rendezvous-go/rendezvous/metrics"
	"github.com/rendezvous-go/rendezvous/rooms"
	"github.com/rendezvous-go/rendezvous/store/memory"
	"github.com/rendezvous-go/rendezvous/transport"
)

const testSecret = "test-secret-test-secret-test-secret"

// stack is one server instance under test.
type stack struct {
	URL      string
	Rooms    *rooms.Service
	Accounts *auth.Service
	T        *transport.Transport
	Codes    *codeBox
	Broker   transport.Broker
	Store    rooms.Store
}

type options struct {
	store            rooms.Store
	broker           transport.Broker
	limiter          transport.Limiter
	throttle         int
	throttleSync     time.Duration
	maxUsers         int
	closeOnHostLeave bool
	cors             []string
	ready            func(context.Context) error
	eventRate        float64
	noSender         bool
	production       bool
	authStore        auth.Store
	payments         billing.Payments
	signupBonus      int
	maxSockets       int
	connectRate      float64
	trustProxy       bool
	trustedProxies   []netip.Prefix
	clock            rv.Clock
	logger           *slog.Logger
	presenceTTL      time.Duration
	metrics          *metrics.Registry
	accessLog        bool
}

// codeBox is a CodeSender that keeps the last code sent to each
// destination.
type codeBox struct {
	mu    sync.Mutex
	codes map[string]string
}

func (b *codeBox) SendCode(_ context.Context, _ auth.Channel, to, code string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.codes == nil {
		b.codes = map[string]string{}
	}
	b.codes[to] = code
	return nil
}

func (b *codeBox) last(to string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.codes[to]
}

func newStack(t testing.TB, o options) *stack {
	t.Helper()
	if o.store == nil {
		o.store = memory.NewRoomStore(nil)
	}
	if o.broker == nil {
		o.broker = memory.NewBroker()
	}
	if o.limiter == nil {
		o.limiter = memory.NewRateLimiter(nil)
	}
	tokens, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := rooms.New(rooms.Config{Store: o.store, Tokens: tokens, Notifier: o.broker, MaxUsers: o.maxUsers, CloseOnHostLeave: o.closeOnHostLeave, PresenceTTL: o.presenceTTL})
	if err != nil {
		t.Fatal(err)
	}
	if o.authStore == nil {
		o.authStore = memory.NewAuthStore(nil)
	}
	codes := &codeBox{}
	acfg := auth.Config{Store: o.authStore, Cutoffs: memory.NewCutoffStore(nil), Limiter: o.limiter, Sender: codes, Secret: []byte(testSecret), Production: o.production, Clock: o.clock}
	if o.noSender {
		acfg.Sender = nil
	}
	accounts, err := auth.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	bcfg := billing.Config{Store: memory.NewWalletStore(nil), SignupBonus: o.signupBonus}
	if o.payments != nil {
		bcfg.Payments = o.payments
		bcfg.Packs = []billing.Pack{{ID: "starter", Tokens: 5, Amount: 499, Currency: "usd"}, {ID: "plus", Tokens: 15, PriceID: "price_plus"}, {ID: "pro", Tokens: 30, Amount: 1999, Currency: "usd"}}
		bcfg.SuccessURL, bcfg.CancelURL = "https://app.example/paid?session={CHECKOUT_SESSION_ID}", "https://app.example/shop"
	}
	wallet, err := billing.New(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	acfg.OnSignup = func(ctx context.Context, u auth.User) error { return wallet.GrantSignupBonus(ctx, u.ID) }
	accounts, err = auth.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transport.New(transport.Config{
		Modules: []transport.Module{
			transport.RoomsModule(transport.RoomsConfig{Service: svc}),
			transport.AccountsModule(transport.AccountsConfig{Service: accounts}),
			transport.BillingModule(transport.BillingConfig{Service: wallet, Authenticator: accounts}),
		},
		Broker: o.broker, Limiter: o.limiter, ThrottleLimit: o.throttle, ThrottleSync: o.throttleSync,
		CORSOrigins: o.cors, Ready: o.ready, EventRate: o.eventRate,
		MaxSocketsPerUser: o.maxSockets, ConnectRate: o.connectRate,
		TrustProxy: o.trustProxy, TrustedProxies: o.trustedProxies, Clock: o.clock, Logger: o.logger,
		Metrics: o.metrics, AccessLog: o.accessLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, tr)
	return &stack{URL: url, Rooms: svc, Accounts: accounts, T: tr, Codes: codes, Broker: o.broker, Store: o.store}
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
}

func (r response) errorBody(t testing.TB) transport.ErrorBody {
	t.Helper()
	var e transport.ErrorBody
	r.json(t, &e)
	return e
}

func do(t testing.TB, method, url, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
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
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (s *stack) create(t testing.TB, name string, extra ...string) rooms.Ticket {
	t.Helper()
	body := `{"displayName":` + quote(name)
	if len(extra) > 0 {
		body += "," + extra[0]
	}
	r := do(t, "POST", s.URL+"/rooms", body+"}")
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var tk rooms.Ticket
	r.json(t, &tk)
	return tk
}

func (s *stack) join(t testing.TB, code, name string) rooms.Ticket {
	t.Helper()
	r := do(t, "POST", s.URL+"/rooms/"+code+"/join", `{"displayName":`+quote(name)+`}`)
	if r.Status != http.StatusOK {
		t.Fatalf("join: %d %s", r.Status, r.Body)
	}
	var tk rooms.Ticket
	r.json(t, &tk)
	return tk
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func wantError(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	e := r.errorBody(t)
	if e.Code != code || e.StatusCode != status || e.Error != http.StatusText(status) || e.Message == "" {
		t.Fatalf("error body %+v, want code %s", e, code)
	}
}

func TestRoomsREST(t *testing.T) {
	s := newStack(t, options{maxUsers: 3})
	host := s.create(t, "  Alice  ")
	if len(host.RoomCode) != 4 || host.Token == "" || host.UserID == "" {
		t.Fatalf("ticket %+v", host)
	}

	r := do(t, "GET", s.URL+"/rooms/"+strings.ToLower(host.RoomCode), "")
	if r.Status != 200 {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	var room map[string]any
	r.json(t, &room)
	for _, k := range []string{"code", "hostId", "isLocked", "maxUsers", "state", "createdAt", "updatedAt"} {
		if _, ok := room[k]; !ok {
			t.Errorf("room info lacks %q: %s", k, r.Body)
		}
	}
	if room["code"] != host.RoomCode || room["hostId"] != host.UserID || room["maxUsers"] != 3.0 || room["state"] != "CREATED" {
		t.Errorf("room info %s", r.Body)
	}

	wantError(t, do(t, "GET", s.URL+"/rooms/ZZZZ", ""), 404, "ROOM_NOT_FOUND")
	wantError(t, do(t, "GET", s.URL+"/rooms/"+strings.Repeat("A", 200), ""), 404, "ROOM_NOT_FOUND")

	bob := s.join(t, strings.ToLower(host.RoomCode), "Bob")
	if bob.RoomCode != host.RoomCode {
		t.Fatalf("join returned code %q", bob.RoomCode)
	}
	wantError(t, do(t, "POST", s.URL+"/rooms/ZZZZ/join", `{"displayName":"X"}`), 404, "ROOM_NOT_FOUND")

	// Rejoin.
	r = do(t, "POST", s.URL+"/rooms/"+host.RoomCode+"/rejoin", "", "Authorization", "Bearer "+bob.Token)
	if r.Status != 200 {
		t.Fatalf("rejoin: %d %s", r.Status, r.Body)
	}
	var re rooms.Ticket
	r.json(t, &re)
	if re.UserID != bob.UserID || re.RoomCode != host.RoomCode || re.Token == "" {
		t.Fatalf("rejoin ticket %+v", re)
	}
	wantError(t, do(t, "POST", s.URL+"/rooms/"+host.RoomCode+"/rejoin", ""), 401, "TOKEN_MISSING")
	wantError(t, do(t, "POST", s.URL+"/rooms/"+host.RoomCode+"/rejoin", "", "Authorization", "Bearer nope"), 401, "TOKEN_INVALID")
	wantError(t, do(t, "POST", s.URL+"/rooms/"+host.RoomCode+"/rejoin", "", "Authorization", "Basic "+bob.Token), 401, "TOKEN_MISSING")
	other := s.create(t, "Carol")
	wantError(t, do(t, "POST", s.URL+"/rooms/"+other.RoomCode+"/rejoin", "", "Authorization", "Bearer "+bob.Token), 403, "TOKEN_ROOM_MISMATCH")

	// Full.
	s.join(t, host.RoomCode, "Dan")
	wantError(t, do(t, "POST", s.URL+"/rooms/"+host.RoomCode+"/join", `{"displayName":"Eve"}`), 400, "ROOM_FULL")

	// Locked.
	if _, err := s.Rooms.ToggleLock(context.Background(), other.RoomCode, other.UserID); err != nil {
		t.Fatal(err)
	}
	wantError(t, do(t, "POST", s.URL+"/rooms/"+other.RoomCode+"/join", `{"displayName":"Eve"}`), 400, "ROOM_LOCKED")

	// Leaving makes the token useless for rejoin; closing makes the room gone.
	if err := s.Rooms.Leave(context.Background(), host.RoomCode, bob.UserID); err != nil {
		t.Fatal(err)
	}
	wantError(t, do(t, "POST", s.URL+"/rooms/"+host.RoomCode+"/rejoin", "", "Authorization", "Bearer "+bob.Token), 404, "MEMBER_NOT_FOUND")
	if err := s.Rooms.Close(context.Background(), host.RoomCode, host.UserID); err != nil {
		t.Fatal(err)
	}
	wantError(t, do(t, "POST", s.URL+"/rooms/"+host.RoomCode+"/rejoin", "", "Authorization", "Bearer "+host.Token), 404, "ROOM_NOT_FOUND")
	wantError(t, do(t, "GET", s.URL+"/rooms/"+host.RoomCode, ""), 404, "ROOM_NOT_FOUND")
}

func TestRoomsRESTValidation(t *testing.T) {
	s := newStack(t, options{maxUsers: 10})
	cases := []struct {
		name, body, code string
	}{
		{"empty body", "", "INVALID_DISPLAY_NAME"},
		{"empty object", "{}", "INVALID_DISPLAY_NAME"},
		{"blank name", `{"displayName":"   "}`, "INVALID_DISPLAY_NAME"},
		{"name too long", `{"displayName":"` + strings.Repeat("x", 33) + `"}`, "INVALID_DISPLAY_NAME"},
		{"control character", `{"displayName":"a\u0007b"}`, "INVALID_DISPLAY_NAME"},
		{"newline", `{"displayName":"a\nb"}`, "INVALID_DISPLAY_NAME"},
		{"bidi override", `{"displayName":"a\u202eb"}`, "INVALID_DISPLAY_NAME"},
		{"name not a string", `{"displayName":42}`, "INVALID_BODY"},
		{"maxUsers not a number", `{"displayName":"A","maxUsers":"8"}`, "INVALID_BODY"},
		{"maxUsers fraction", `{"displayName":"A","maxUsers":2.5}`, "INVALID_BODY"},
		{"maxUsers zero", `{"displayName":"A","maxUsers":0}`, "INVALID_MAX_USERS"},
		{"maxUsers negative", `{"displayName":"A","maxUsers":-1}`, "INVALID_MAX_USERS"},
		{"maxUsers above ceiling", `{"displayName":"A","maxUsers":11}`, "INVALID_MAX_USERS"},
		{"unknown field", `{"displayName":"A","admin":true}`, "INVALID_BODY"},
		{"array", `[]`, "INVALID_BODY"},
		{"malformed", `{"displayName":`, "INVALID_BODY"},
		{"trailing data", `{"displayName":"A"}{}`, "INVALID_BODY"},
		{"oversized", `{"displayName":"` + strings.Repeat("x", transport.MaxBodyBytes) + `"}`, "BODY_TOO_LARGE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, do(t, "POST", s.URL+"/rooms", tc.body), 400, tc.code)
		})
	}
	t.Run("wrong content type", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.URL+"/rooms", strings.NewReader(`{"displayName":"A"}`))
		req.Header.Set("Content-Type", "text/plain")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
	t.Run("unicode names count characters", func(t *testing.T) {
		tk := s.create(t, strings.Repeat("é", 32)) // 64 bytes, 32 characters
		s.join(t, tk.RoomCode, "👩‍🚀 Zoë")
		wantError(t, do(t, "POST", s.URL+"/rooms/"+tk.RoomCode+"/join", `{"displayName":"`+strings.Repeat("é", 33)+`"}`), 400, "INVALID_DISPLAY_NAME")
	})
	t.Run("maxUsers at ceiling", func(t *testing.T) {
		s.create(t, "A", `"maxUsers":10`)
	})
	t.Run("join validation", func(t *testing.T) {
		tk := s.create(t, "A")
		wantError(t, do(t, "POST", s.URL+"/rooms/"+tk.RoomCode+"/join", `{"displayName":"B","maxUsers":3}`), 400, "INVALID_BODY")
		wantError(t, do(t, "POST", s.URL+"/rooms/"+tk.RoomCode+"/join", `{}`), 400, "INVALID_DISPLAY_NAME")
	})
}

func TestConcurrentJoinsRespectMaxUsers(t *testing.T) {
	s := newStack(t, options{})
	host := s.create(t, "Host", `"maxUsers":5`)
	const n = 300
	results := make(chan int, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			<-start
			req, _ := http.NewRequest("POST", s.URL+"/rooms/"+host.RoomCode+"/join", strings.NewReader(`{"displayName":"P"}`))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- -1
				return
			}
			var e transport.ErrorBody
			_ = json.NewDecoder(res.Body).Decode(&e)
			res.Body.Close()
			if res.StatusCode == 400 && e.Code != "ROOM_FULL" {
				results <- -2
				return
			}
			results <- res.StatusCode
		}()
	}
	close(start)
	counts := map[int]int{}
	for i := 0; i < n; i++ {
		counts[<-results]++
	}
	if counts[200] != 4 || counts[400] != n-4 {
		t.Fatalf("statuses %v, want 4×200 and %d×400 ROOM_FULL", counts, n-4)
	}
	snap, err := s.Rooms.State(context.Background(), host.RoomCode)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Users) != 5 {
		t.Fatalf("%d members, want 5", len(snap.Users))
	}
}

func TestRateLimit(t *testing.T) {
	s := newStack(t, options{throttle: 3})
	tk := s.create(t, "A")
	for i := 0; i < 2; i++ {
		s.create(t, "A")
	}
	r := do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`)
	wantError(t, r, 429, "RATE_LIMITED")
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Another route has its own budget.
	if r := do(t, "GET", s.URL+"/rooms/"+tk.RoomCode, ""); r.Status != 200 {
		t.Fatalf("get after create limit: %d", r.Status)
	}
}

func TestCORS(t *testing.T) {
	s := newStack(t, options{cors: []string{"https://game.example"}})
	r := do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, "Origin", "https://game.example")
	if r.Status != 201 || r.Header.Get("Access-Control-Allow-Origin") != "https://game.example" || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("allowed origin: %d %v", r.Status, r.Header)
	}
	wantError(t, do(t, "POST", s.URL+"/rooms", `{"displayName":"A"}`, "Origin", "https://evil.example"), 403, "ORIGIN_NOT_ALLOWED")

	r = do(t, "OPTIONS", s.URL+"/rooms/ABCD/rejoin", "", "Origin", "https://game.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization")
	if r.Status != 204 || !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", r.Status, r.Header)
	}
	// The Socket.IO handshake obeys the same list.
	r = do(t, "GET", s.URL+"/socket.io/?EIO=4&transport=polling", "", "Origin", "https://evil.example")
	if r.Status != 403 {
		t.Fatalf("socket.io handshake from a disallowed origin: %d %s", r.Status, r.Body)
	}
	r = do(t, "GET", s.URL+"/socket.io/?EIO=4&transport=polling", "", "Origin", "https://game.example")
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://game.example" {
		t.Fatalf("socket.io handshake from an allowed origin: %d %v", r.Status, r.Header)
	}
}

func TestHealth(t *testing.T) {
	down := errors.New("redis: connection refused")
	var failing bool
	s := newStack(t, options{ready: func(context.Context) error {
		if failing {
			return down
		}
		return nil
	}})
	if r := do(t, "GET", s.URL+"/healthz", ""); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := do(t, "GET", s.URL+"/readyz", ""); r.Status != 200 {
		t.Fatalf("readyz %d", r.Status)
	}
	failing = true
	r := do(t, "GET", s.URL+"/readyz", "")
	wantError(t, r, 503, "NOT_READY")
	if bytes.Contains(r.Body, []byte("connection refused")) {
		t.Fatalf("readyz leaks the cause: %s", r.Body)
	}
}

func TestHTTPStatusTable(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{rooms.ErrRoomNotFound, 404}, {rooms.ErrRoomFull, 400}, {rooms.ErrNotHost, 403},
		{auth.ErrTokenExpired, 401}, {transport.ErrRateLimited, 429}, {rooms.ErrCodeGenerationFailed, 503},
		{errors.New("boom"), 500}, {context.DeadlineExceeded, 503}, {rv.E(rv.KindConflict, "X", "x"), 409},
		{rv.E(rv.KindPaymentRequired, "X", "x"), 402},
	} {
		if got := transport.HTTPStatus(tc.err); got != tc.status {
			t.Errorf("%v: %d, want %d", tc.err, got, tc.status)
		}
	}
}

func FuzzRoomsREST(f *testing.F) {
	for _, seed := range []string{`{"displayName":"A"}`, `{"displayName":"A","maxUsers":3}`, `{`, `[]`, `null`, `{"displayName":null}`, "\x00", `{"maxUsers":1e309}`} {
		f.Add("create", seed)
		f.Add("join", seed)
	}
	s := newStack(f, options{maxUsers: 50})
	tk := s.create(f, "Host", `"maxUsers":50`)
	f.Fuzz(func(t *testing.T, route, body string) {
		url := s.URL + "/rooms"
		if route == "join" {
			url += "/" + tk.RoomCode + "/join"
		}
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode >= 500 {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("%s %q: %d %s", route, body, res.StatusCode, b)
		}
		if res.StatusCode >= 400 {
			var e transport.ErrorBody
			if err := json.NewDecoder(res.Body).Decode(&e); err != nil || e.Code == "" {
				t.Fatalf("%s %q: error body without code (%v)", route, body, err)
			}
		}
		if route == "join" && res.StatusCode == 200 {
			// Keep the room from filling up: the fuzzer only cares about decoding.
			var j rooms.Ticket
			_ = json.NewDecoder(res.Body).Decode(&j)
			_ = s.Rooms.Leave(context.Background(), tk.RoomCode, j.UserID)
		}
	})
}

// serve starts tr, serves it on a loopback httptest server and returns its
// URL; both stop when the test ends.
func serve(t testing.TB, tr *transport.Transport) string {
	t.Helper()
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(tr.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Shutdown(ctx)
		srv.Close()
	})
	return srv.URL
}
