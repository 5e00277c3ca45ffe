package transport_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/transport"
	"github.com/rendezvous-go/rendezvous/transport/socketio"
)

// account is a signed-up user as a client holds it.
type account struct {
	ID      string
	Access  string
	Refresh string
}

func refreshCookie(t testing.TB, r response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == transport.RefreshCookie {
			return c
		}
	}
	return nil
}

func (s *stack) signup(t testing.TB) account {
	t.Helper()
	r := do(t, "POST", s.URL+"/auth/signup-anonymous", "")
	if r.Status != http.StatusCreated {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	var body struct {
		User        auth.User `json:"user"`
		AccessToken string    `json:"accessToken"`
	}
	r.json(t, &body)
	c := refreshCookie(t, r)
	if body.User.ID == "" || body.AccessToken == "" || c == nil || c.Value == "" {
		t.Fatalf("signup response %s, cookie %v", r.Body, c)
	}
	return account{ID: body.User.ID, Access: body.AccessToken, Refresh: c.Value}
}

func bearerH(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func cookieH(tok string) []string { return []string{"Cookie", transport.RefreshCookie + "=" + tok} }

func TestSignupCookieAttributes(t *testing.T) {
	for _, prod := range []bool{false, true} {
		s := newStack(t, options{production: prod})
		r := do(t, "POST", s.URL+"/auth/signup-anonymous", "")
		c := refreshCookie(t, r)
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/auth" || c.Secure != prod ||
			c.MaxAge < 29*24*3600 || len(c.Value) < 43 {
			t.Fatalf("production=%v: cookie %+v", prod, c)
		}
	}
}

func TestAccountsREST(t *testing.T) {
	clock := fakeclock.New(time.Now())
	s := newStack(t, options{clock: clock})
	a := s.signup(t)

	// The access token opens /users/me; nothing else does.
	r := do(t, "GET", s.URL+"/users/me", "", bearerH(a.Access)...)
	var me auth.User
	r.json(t, &me)
	if r.Status != 200 || me.ID != a.ID {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	wantError(t, do(t, "GET", s.URL+"/users/me", ""), 401, "TOKEN_MISSING")
	wantError(t, do(t, "GET", s.URL+"/users/me", "", bearerH(a.Refresh)...), 401, "TOKEN_INVALID")
	room := s.create(t, "Host")
	wantError(t, do(t, "GET", s.URL+"/users/me", "", bearerH(room.Token)...), 401, "TOKEN_INVALID")
	// ... and the access token is not a room token.
	wantError(t, do(t, "POST", s.URL+"/rooms/"+room.RoomCode+"/rejoin", "", bearerH(a.Access)...), 401, "TOKEN_INVALID")

	// Profile.
	r = do(t, "PATCH", s.URL+"/users/me", `{"displayName":"  Sam ","age":29,"gender":"woman","interests":["jazz","climbing"],"photoUrls":["https://cdn.example/p/1.jpg"],"bio":"Hi"}`, bearerH(a.Access)...)
	r.json(t, &me)
	if r.Status != 200 || me.DisplayName != "Sam" || me.Age != 29 || len(me.Interests) != 2 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	for _, bad := range []string{`{"age":17}`, `{"gender":"robot"}`, `{"photoUrls":["http://insecure.example/x.jpg"]}`, `{"displayName":""}`, `{"interests":["a","A"]}`, `{"bio":"` + strings.Repeat("b", 501) + `"}`} {
		wantError(t, do(t, "PATCH", s.URL+"/users/me", bad, bearerH(a.Access)...), 400, "INVALID_PROFILE")
	}
	wantError(t, do(t, "PATCH", s.URL+"/users/me", `{"phone":"+15555550100"}`, bearerH(a.Access)...), 400, "INVALID_BODY")
	wantError(t, do(t, "PATCH", s.URL+"/users/me", `{"age":"29"}`, bearerH(a.Access)...), 400, "INVALID_BODY")

	// Verify a phone number.
	wantError(t, do(t, "POST", s.URL+"/auth/verify-phone", `{"phone":"555"}`, bearerH(a.Access)...), 400, "INVALID_PHONE")
	wantError(t, do(t, "POST", s.URL+"/auth/verify-phone", `{"email":"a@b.co"}`, bearerH(a.Access)...), 400, "INVALID_BODY")
	r = do(t, "POST", s.URL+"/auth/verify-phone", `{"phone":"+1 (555) 555-0100"}`, bearerH(a.Access)...)
	if r.Status != 202 {
		t.Fatalf("verify-phone start: %d %s", r.Status, r.Body)
	}
	code := s.Codes.last("+15555550100")
	if len(code) != 6 {
		t.Fatalf("code %q", code)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	wantError(t, do(t, "POST", s.URL+"/auth/verify-phone", `{"phone":"+15555550100","code":"`+wrong+`"}`, bearerH(a.Access)...), 400, "CODE_INVALID")
	r = do(t, "POST", s.URL+"/auth/verify-phone", `{"phone":"+15555550100","code":"`+code+`"}`, bearerH(a.Access)...)
	var linked struct{ User auth.User }
	r.json(t, &linked)
	if r.Status != 200 || linked.User.Phone != "+15555550100" {
		t.Fatalf("verify-phone confirm: %d %s", r.Status, r.Body)
	}
	wantError(t, do(t, "POST", s.URL+"/auth/verify-phone", `{"phone":"+15555550100","code":"`+code+`"}`, bearerH(a.Access)...), 400, "CODE_INVALID")

	// Another account cannot take the number.
	b := s.signup(t)
	do(t, "POST", s.URL+"/auth/verify-phone", `{"phone":"+15555550100"}`, bearerH(b.Access)...)
	wantError(t, do(t, "POST", s.URL+"/auth/verify-phone", `{"phone":"+15555550100","code":"`+s.Codes.last("+15555550100")+`"}`, bearerH(b.Access)...), 409, "IDENTITY_TAKEN")

	// Email verification, case-folded.
	do(t, "POST", s.URL+"/auth/verify-email", `{"email":"Sam@Example.COM"}`, bearerH(a.Access)...)
	r = do(t, "POST", s.URL+"/auth/verify-email", `{"email":"sam@example.com","code":"`+s.Codes.last("sam@example.com")+`"}`, bearerH(a.Access)...)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"email":"sam@example.com"`) {
		t.Fatalf("verify-email: %d %s", r.Status, r.Body)
	}

	// Sign in on a new device with the phone.
	if r := do(t, "POST", s.URL+"/auth/login/start", `{"phone":"+15555550100"}`); r.Status != 202 {
		t.Fatalf("login/start: %d %s", r.Status, r.Body)
	}
	r = do(t, "POST", s.URL+"/auth/login", `{"phone":"+15555550100","code":"`+s.Codes.last("+15555550100")+`"}`)
	var sess transport.SessionResponse
	r.json(t, &sess)
	if r.Status != 200 || sess.User == nil || sess.User.ID != a.ID || refreshCookie(t, r) == nil {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	// Unknown identifiers look the same at start and fail like a wrong code.
	if r := do(t, "POST", s.URL+"/auth/login/start", `{"email":"nobody@example.com"}`); r.Status != 202 {
		t.Fatalf("login/start unknown: %d %s", r.Status, r.Body)
	}
	if s.Codes.last("nobody@example.com") != "" {
		t.Fatal("a code was sent to an identifier without an account")
	}
	wantError(t, do(t, "POST", s.URL+"/auth/login", `{"email":"nobody@example.com","code":"123456"}`), 400, "CODE_INVALID")
	wantError(t, do(t, "POST", s.URL+"/auth/login", `{"email":"a@b.co","phone":"+15555550100","code":"1"}`), 400, "INVALID_BODY")
	wantError(t, do(t, "POST", s.URL+"/auth/login", `{"email":"a@b.co"}`), 400, "INVALID_BODY")

	// Delete: the account and its tokens are gone (the tokens were issued
	// in an earlier millisecond, the cut-off's precision).
	clock.Advance(time.Millisecond)
	if r := do(t, "DELETE", s.URL+"/users/me", "", bearerH(b.Access)...); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	wantError(t, do(t, "GET", s.URL+"/users/me", "", bearerH(b.Access)...), 401, "TOKEN_REVOKED")
	wantError(t, do(t, "POST", s.URL+"/auth/refresh", "", cookieH(b.Refresh)...), 401, "REFRESH_TOKEN_INVALID")
}

func TestRefreshRotationAndReuse(t *testing.T) {
	s := newStack(t, options{})
	a := s.signup(t)
	wantError(t, do(t, "POST", s.URL+"/auth/refresh", ""), 401, "REFRESH_TOKEN_MISSING")
	wantError(t, do(t, "POST", s.URL+"/auth/refresh", "", cookieH("garbage")...), 401, "REFRESH_TOKEN_INVALID")

	r := do(t, "POST", s.URL+"/auth/refresh", "", cookieH(a.Refresh)...)
	var sess transport.SessionResponse
	r.json(t, &sess)
	next := refreshCookie(t, r)
	if r.Status != 200 || sess.AccessToken == "" || next == nil || next.Value == a.Refresh {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	// Replaying the rotated token is reuse: 401, cookie cleared, and the
	// newest token of the family dies too.
	r = do(t, "POST", s.URL+"/auth/refresh", "", cookieH(a.Refresh)...)
	wantError(t, r, 401, "REFRESH_TOKEN_REUSED")
	if c := refreshCookie(t, r); c == nil || c.MaxAge >= 0 {
		t.Fatalf("cookie not cleared: %v", c)
	}
	wantError(t, do(t, "POST", s.URL+"/auth/refresh", "", cookieH(next.Value)...), 401, "TOKEN_REVOKED")
}

func TestConcurrentRefreshHasOneWinner(t *testing.T) {
	s := newStack(t, options{})
	a := s.signup(t)
	const n = 50
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", s.URL+"/auth/refresh", nil)
			req.Header.Set("Cookie", transport.RefreshCookie+"="+a.Refresh)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[200] != 1 || count[401] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 401", count, n-1)
	}
}

func TestLogoutAndLogoutAll(t *testing.T) {
	clock := fakeclock.New(time.Now())
	s := newStack(t, options{clock: clock})
	a := s.signup(t)
	r := do(t, "POST", s.URL+"/auth/logout", "", cookieH(a.Refresh)...)
	if r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if c := refreshCookie(t, r); c == nil || c.MaxAge >= 0 {
		t.Fatalf("logout kept the cookie: %v", c)
	}
	wantError(t, do(t, "POST", s.URL+"/auth/refresh", "", cookieH(a.Refresh)...), 401, "TOKEN_REVOKED")
	// Logout without a cookie is harmless.
	if r := do(t, "POST", s.URL+"/auth/logout", ""); r.Status != 204 {
		t.Fatalf("logout without cookie: %d", r.Status)
	}

	// logout-all: an access token issued before it is rejected at once,
	// one issued after (in the same second) works.
	b := s.signup(t)
	r = do(t, "POST", s.URL+"/auth/refresh", "", cookieH(b.Refresh)...)
	var second transport.SessionResponse
	r.json(t, &second)
	// Both tokens were issued before the logout-all, in an earlier
	// millisecond (the cut-off's precision).
	clock.Advance(time.Millisecond)
	if r := do(t, "POST", s.URL+"/auth/logout-all", "", bearerH(b.Access)...); r.Status != 204 {
		t.Fatalf("logout-all: %d %s", r.Status, r.Body)
	}
	wantError(t, do(t, "GET", s.URL+"/users/me", "", bearerH(b.Access)...), 401, "TOKEN_REVOKED")
	wantError(t, do(t, "GET", s.URL+"/users/me", "", bearerH(second.AccessToken)...), 401, "TOKEN_REVOKED")
	wantError(t, do(t, "POST", s.URL+"/auth/refresh", "", refreshCookieHeader(t, r)...), 401, "TOKEN_REVOKED")
}

func refreshCookieHeader(t testing.TB, r response) []string {
	c := refreshCookie(t, r)
	if c == nil {
		t.Fatal("no refresh cookie")
	}
	return cookieH(c.Value)
}

func TestVerificationWithoutSender(t *testing.T) {
	s := newStack(t, options{noSender: true})
	a := s.signup(t)
	wantError(t, do(t, "POST", s.URL+"/auth/verify-email", `{"email":"x@example.com"}`, bearerH(a.Access)...), 503, "VERIFICATION_UNAVAILABLE")
	wantError(t, do(t, "POST", s.URL+"/auth/login/start", `{"email":"x@example.com"}`), 503, "VERIFICATION_UNAVAILABLE")
}

func TestSendRateLimitHasRetryAfter(t *testing.T) {
	s := newStack(t, options{})
	a := s.signup(t)
	var last response
	for i := 0; i < 6; i++ {
		last = do(t, "POST", s.URL+"/auth/verify-email", `{"email":"x@example.com"}`, bearerH(a.Access)...)
	}
	wantError(t, last, 429, "RATE_LIMITED")
	if last.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

func TestUserNamespace(t *testing.T) {
	clock := fakeclock.New(time.Now())
	s := newStack(t, options{clock: clock})
	ns := s.T.UserNamespace("/test", s.Accounts, nil)
	ns.On("whoami", func(sock *socketio.Socket, ev *socketio.Event) {
		p, _ := transport.SocketPrincipal(sock)
		ev.Ack(p.UserID)
	})
	a := s.signup(t)
	c := dial(t, s)
	p, err := c.Connect("/test", map[string]string{"token": a.Access}, wait)
	if err != nil || p.Type != 0 {
		t.Fatalf("connect: %v %s", err, p.Data)
	}
	out, err := c.EmitAck("/test", "whoami", wait)
	if err != nil || len(out) != 1 || string(out[0]) != `"`+a.ID+`"` {
		t.Fatalf("whoami: %s %v", out, err)
	}
	// Events to the user's target reach the socket.
	s.T.SocketIO().Of("/test").Emit(rv.UserTarget(a.ID), "ping", map[string]int{"n": 1})
	if raw, err := c.WaitEvent("/test", "ping", wait); err != nil || string(raw) != `{"n":1}` {
		t.Fatalf("targeted event: %s %v", raw, err)
	}

	room := s.create(t, "Host")
	for name, tc := range map[string]struct {
		auth any
		code string
	}{
		"no token":      {nil, "TOKEN_MISSING"},
		"room token":    {map[string]string{"token": room.Token}, "TOKEN_INVALID"},
		"refresh token": {map[string]string{"token": a.Refresh}, "TOKEN_INVALID"},
	} {
		c := dial(t, s)
		p, err := c.Connect("/test", tc.auth, wait)
		var e struct{ Data struct{ Code string } }
		_ = json.Unmarshal(p.Data, &e)
		if err != nil || p.Type != 4 || e.Data.Code != tc.code {
			t.Errorf("%s: %v %s, want %s", name, err, p.Data, tc.code)
		}
	}
	clock.Advance(time.Millisecond) // the cut-off's precision: after the token
	do(t, "POST", s.URL+"/auth/logout-all", "", bearerH(a.Access)...)
	c2, _ := siotest.Dial(context.Background(), s.URL, nil)
	defer c2.Close()
	p, _ = c2.Connect("/test", map[string]string{"token": a.Access}, wait)
	if p.Type != 4 || !strings.Contains(string(p.Data), "TOKEN_REVOKED") {
		t.Fatalf("revoked token: %s", p.Data)
	}
}

func TestAuthenticatedMiddleware(t *testing.T) {
	s := newStack(t, options{})
	h := s.T.Authenticated(s.Accounts, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := transport.PrincipalFrom(r.Context())
		if !ok {
			t.Error("no principal in the context")
		}
		_, _ = w.Write([]byte(p.UserID))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	a := s.signup(t)
	if r := do(t, "GET", srv.URL, "", bearerH(a.Access)...); r.Status != 200 || string(r.Body) != a.ID {
		t.Fatalf("valid token: %d %s", r.Status, r.Body)
	}
	wantError(t, do(t, "GET", srv.URL, ""), 401, "TOKEN_MISSING")
	wantError(t, do(t, "GET", srv.URL, "", bearerH("nope")...), 401, "TOKEN_INVALID")
}
