package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/internal/fakeclock"
	"github.com/rendezvous-go/rendezvous/store/memory"
)

// outbox is a CodeSender that keeps what it sends.
type outbox struct {
	mu   sync.Mutex
	sent []sentCode
	fail error
}

type sentCode struct {
	ch       auth.Channel
	to, code string
}

func (o *outbox) SendCode(_ context.Context, ch auth.Channel, to, code string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.sent = append(o.sent, sentCode{ch, to, code})
	return nil
}

func (o *outbox) count() int { o.mu.Lock(); defer o.mu.Unlock(); return len(o.sent) }

// last returns the last code sent to to.
func (o *outbox) last(t *testing.T, to string) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.sent) - 1; i >= 0; i-- {
		if o.sent[i].to == to {
			return o.sent[i].code
		}
	}
	t.Fatalf("no code sent to %s", to)
	return ""
}

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// env is a Service on memory stores with a fake clock.
type env struct {
	svc    *auth.Service
	clock  *fakeclock.Clock
	outbox *outbox
	store  *memory.AuthStore
	ctx    context.Context
	ips    atomic.Int32
}

// nextIP returns a client address no other helper call of e used, so that
// the helpers do not run into the per-address send limits.
func (e *env) nextIP() string {
	n := e.ips.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
}

func newEnv(t *testing.T, edit ...func(*auth.Config)) *env {
	t.Helper()
	// Half a second into a second, so that tests can stay within it.
	clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 100_000_000, time.UTC))
	e := &env{clock: clock, outbox: &outbox{}, store: memory.NewAuthStore(clock), ctx: context.Background()}
	cfg := auth.Config{
		Store:   e.store,
		Cutoffs: memory.NewCutoffStore(clock),
		Limiter: memory.NewRateLimiter(clock),
		Sender:  e.outbox,
		Secret:  testSecret,
		Clock:   clock,
	}
	for _, f := range edit {
		f(&cfg)
	}
	svc, err := auth.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.svc = svc
	return e
}

func (e *env) signup(t *testing.T) auth.Session {
	t.Helper()
	s, err := e.svc.SignupAnonymous(e.ctx)
	if err != nil {
		t.Fatalf("SignupAnonymous: %v", err)
	}
	return s
}

// verify links identifier to userID through the code flow.
func (e *env) verify(t *testing.T, userID string, ch auth.Channel, identifier string) auth.User {
	t.Helper()
	ip := e.nextIP()
	if err := e.svc.StartVerification(e.ctx, userID, ch, identifier, ip); err != nil {
		t.Fatalf("StartVerification: %v", err)
	}
	norm, _ := auth.NormalizeIdentifier(ch, identifier)
	u, err := e.svc.ConfirmVerification(e.ctx, userID, ch, identifier, e.outbox.last(t, norm), ip)
	if err != nil {
		t.Fatalf("ConfirmVerification: %v", err)
	}
	return u
}

// login signs in with identifier through the code flow.
func (e *env) login(t *testing.T, ch auth.Channel, identifier string) auth.Session {
	t.Helper()
	ip := e.nextIP()
	if err := e.svc.StartLogin(e.ctx, ch, identifier, ip); err != nil {
		t.Fatalf("StartLogin: %v", err)
	}
	s, err := e.svc.Login(e.ctx, ch, identifier, e.outbox.last(t, identifier), ip)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return s
}

func (e *env) authOK(t *testing.T, token, userID string) auth.Principal {
	t.Helper()
	p, err := e.svc.Authenticate(e.ctx, token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if p.UserID != userID {
		t.Fatalf("Authenticate: user %s, want %s", p.UserID, userID)
	}
	return p
}

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, nil))
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func TestNewValidates(t *testing.T) {
	store, cutoffs := memory.NewAuthStore(nil), memory.NewCutoffStore(nil)
	ok := auth.Config{Store: store, Cutoffs: cutoffs, Secret: testSecret}
	cases := map[string]func(*auth.Config){
		"no store":                         func(c *auth.Config) { c.Store = nil },
		"no cut-off store":                 func(c *auth.Config) { c.Cutoffs = nil },
		"short secret":                     func(c *auth.Config) { c.Secret = []byte("short") },
		"31-byte secret, production":       func(c *auth.Config) { c.Production = true; c.Secret = make([]byte, 31) },
		"LogSender in production":          func(c *auth.Config) { c.Production = true; c.Sender = auth.LogSender{} },
		"*LogSender in production":         func(c *auth.Config) { c.Production = true; c.Sender = &auth.LogSender{} },
		"negative AccessTTL":               func(c *auth.Config) { c.AccessTTL = -time.Minute },
		"sub-second CodeTTL":               func(c *auth.Config) { c.CodeTTL = time.Millisecond },
		"negative attempts":                func(c *auth.Config) { c.CodeMaxAttempts = -1 },
		"total attempts below attempts":    func(c *auth.Config) { c.CodeMaxAttempts = 5; c.CodeMaxTotalAttempts = 4 },
		"per-IP send limit at the ceiling": func(c *auth.Config) { c.SendLimitPerIdentifier = 3; c.SendLimitPerIdentifierIP = 3 },
		"send ceiling of one":              func(c *auth.Config) { c.SendLimitPerIdentifier = 1 },
		"negative grace":                   func(c *auth.Config) { c.RefreshGrace = -time.Second },
		"grace as long as the TTL":         func(c *auth.Config) { c.RefreshTTL = time.Hour; c.RefreshGrace = time.Hour },
	}
	for name, edit := range cases {
		cfg := ok
		edit(&cfg)
		if _, err := auth.New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	for name, edit := range map[string]func(*auth.Config){
		"defaults":                          func(*auth.Config) {},
		"16-byte secret outside production": func(c *auth.Config) { c.Secret = make([]byte, 16) },
		"32-byte secret in production":      func(c *auth.Config) { c.Production = true; c.Secret = make([]byte, 32) },
		"LogSender outside production":      func(c *auth.Config) { c.Sender = auth.LogSender{} },
	} {
		cfg := ok
		edit(&cfg)
		if _, err := auth.New(cfg); err != nil {
			t.Errorf("%s: New: %v", name, err)
		}
	}
	svc, _ := auth.New(ok)
	if svc.AccessTTL() != 15*time.Minute || svc.RefreshTTL() != 30*24*time.Hour || svc.Production() {
		t.Errorf("defaults: AccessTTL %v, RefreshTTL %v, Production %v", svc.AccessTTL(), svc.RefreshTTL(), svc.Production())
	}
}

func TestSignupAnonymous(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	s := e.signup(t)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(s.User.ID) {
		t.Errorf("user id %q is not a v4 UUID", s.User.ID)
	}
	if !s.User.CreatedAt.Equal(now.Truncate(time.Millisecond)) || s.User.Phone != "" || s.User.Email != "" {
		t.Errorf("user = %+v", s.User)
	}
	if got, want := s.AccessExpiresAt, now.Add(15*time.Minute).Truncate(time.Second); !got.Equal(want) {
		t.Errorf("AccessExpiresAt = %v, want %v", got, want)
	}
	if got, want := s.RefreshExpiresAt, now.Add(30*24*time.Hour); !got.Equal(want) {
		t.Errorf("RefreshExpiresAt = %v, want %v", got, want)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s.RefreshToken)
	if err != nil || len(raw) != 32 {
		t.Errorf("refresh token %q is not 256 bits in base64url: %v", s.RefreshToken, err)
	}
	p := e.authOK(t, s.AccessToken, s.User.ID)
	if p.TokenID == "" || !p.IssuedAt.Equal(now.Truncate(time.Millisecond)) {
		t.Errorf("principal = %+v", p)
	}
	me, err := e.svc.Me(e.ctx, s.User.ID)
	if err != nil || me.ID != s.User.ID {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	b, _ := json.Marshal(me)
	for _, want := range []string{`"displayName":""`, `"interests":[]`, `"photoUrls":[]`, `"createdAt":`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON of a new user %s lacks %s", b, want)
		}
	}
	// Two sign-ups are two users with distinct tokens.
	s2 := e.signup(t)
	if s2.User.ID == s.User.ID || s2.RefreshToken == s.RefreshToken || s2.AccessToken == s.AccessToken {
		t.Error("two sign-ups share an id or a token")
	}
}

func TestAccessTokenClaims(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	claims := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(s.AccessToken, claims)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Method.Alg() != "HS256" {
		t.Errorf("alg = %s", tok.Method.Alg())
	}
	for _, k := range []string{"iss", "aud", "sub", "jti", "iat", "exp", "typ", "iat_us"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %q missing from %v", k, claims)
		}
	}
	if claims["typ"] != auth.TokenTypeAccess || claims["iss"] != auth.DefaultIssuer || claims["sub"] != s.User.ID {
		t.Errorf("claims = %v", claims)
	}
	if aud, _ := claims.GetAudience(); len(aud) != 1 || aud[0] != auth.AudienceAPI {
		t.Errorf("aud = %v", aud)
	}
	if exp, _ := claims.GetExpirationTime(); exp.Sub(e.clock.Now()) > 15*time.Minute || exp.Sub(e.clock.Now()) < 15*time.Minute-time.Second {
		t.Errorf("exp %v is not 15 minutes after now", exp)
	}
}

func TestAuthenticateRejects(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	now := e.clock.Now()
	parts := strings.Split(s.AccessToken, ".")

	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		t.Helper()
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	base := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": auth.DefaultIssuer, "aud": auth.AudienceAPI, "sub": s.User.ID, "jti": "x",
			"typ": "access", "iat": now.Unix(), "iat_us": now.UnixMicro(), "exp": now.Add(time.Hour).Unix(),
		}
	}
	with := func(k string, v any) jwt.MapClaims { c := base(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := base(); delete(c, k); return c }
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	noneSigned, _ := jwt.NewWithClaims(jwt.SigningMethodNone, base()).SignedString(jwt.UnsafeAllowNoneSignatureType)

	rooms, err := auth.NewRoomTokens(auth.RoomTokenConfig{Secret: testSecret, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	roomToken, _ := rooms.IssueRoomToken("ABCD", s.User.ID)

	// The valid control, so that the cases below fail for their reason.
	if _, err := e.svc.Authenticate(e.ctx, sign(jwt.SigningMethodHS256, testSecret, base())); err != nil {
		t.Fatalf("hand-made valid token: %v", err)
	}

	cases := map[string]struct {
		tok  string
		want error
	}{
		"empty":            {"", auth.ErrTokenMissing},
		"blank":            {"   ", auth.ErrTokenMissing},
		"garbage":          {"not-a-jwt", auth.ErrTokenInvalid},
		"tampered payload": {parts[0] + "." + parts[1] + "x." + parts[2], auth.ErrTokenInvalid},
		"tampered subject": {parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"someone-else"}`)) + "." + parts[2], auth.ErrTokenInvalid},
		"bad signature":    {parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), auth.ErrTokenInvalid},
		"alg none":         {none, auth.ErrTokenInvalid},
		"alg none signed":  {noneSigned, auth.ErrTokenInvalid},
		"HS512":            {sign(jwt.SigningMethodHS512, testSecret, base()), auth.ErrTokenInvalid},
		"wrong secret":     {sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-another"), base()), auth.ErrTokenInvalid},
		"room token":       {roomToken, auth.ErrTokenInvalid},
		"refresh token":    {s.RefreshToken, auth.ErrTokenInvalid},
		"type room":        {sign(jwt.SigningMethodHS256, testSecret, with("typ", "room")), auth.ErrTokenInvalid},
		"type refresh":     {sign(jwt.SigningMethodHS256, testSecret, with("typ", "refresh")), auth.ErrTokenInvalid},
		"no type":          {sign(jwt.SigningMethodHS256, testSecret, without("typ")), auth.ErrTokenInvalid},
		"wrong audience":   {sign(jwt.SigningMethodHS256, testSecret, with("aud", auth.AudienceRooms)), auth.ErrTokenInvalid},
		"wrong issuer":     {sign(jwt.SigningMethodHS256, testSecret, with("iss", "someone-else")), auth.ErrTokenInvalid},
		"no expiry":        {sign(jwt.SigningMethodHS256, testSecret, without("exp")), auth.ErrTokenInvalid},
		"no subject":       {sign(jwt.SigningMethodHS256, testSecret, without("sub")), auth.ErrTokenInvalid},
		"no id":            {sign(jwt.SigningMethodHS256, testSecret, without("jti")), auth.ErrTokenInvalid},
		"no iat_us":        {sign(jwt.SigningMethodHS256, testSecret, without("iat_us")), auth.ErrTokenInvalid},
		"iat_us disagrees": {sign(jwt.SigningMethodHS256, testSecret, with("iat_us", now.Add(time.Hour).UnixMicro())), auth.ErrTokenInvalid},
		"expired":          {sign(jwt.SigningMethodHS256, testSecret, with("exp", now.Add(-time.Second).Unix())), auth.ErrTokenExpired},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.svc.Authenticate(e.ctx, tc.tok)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	// An access token is refused as a room token too.
	if _, _, err := rooms.VerifyRoomToken(s.AccessToken); !errors.Is(err, auth.ErrTokenInvalid) {
		t.Errorf("an access token verified as a room token: %v", err)
	}
	// And it expires after 15 minutes.
	e.clock.Advance(15 * time.Minute)
	_, err = e.svc.Authenticate(e.ctx, s.AccessToken)
	wantErr(t, "access token after 15 minutes", err, auth.ErrTokenExpired)
}

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	e.clock.Advance(time.Minute)
	r1, err := e.svc.Refresh(e.ctx, s.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if r1.User.ID != s.User.ID || r1.RefreshToken == s.RefreshToken || r1.AccessToken == s.AccessToken {
		t.Errorf("refresh returned %+v", r1)
	}
	if !r1.RefreshExpiresAt.Equal(e.clock.Now().Add(30 * 24 * time.Hour)) {
		t.Errorf("RefreshExpiresAt = %v, want 30 days from now", r1.RefreshExpiresAt)
	}
	e.authOK(t, r1.AccessToken, s.User.ID)
	e.clock.Advance(time.Minute)
	r2, err := e.svc.Refresh(e.ctx, " "+r1.RefreshToken+" ")
	if err != nil {
		t.Fatalf("second Refresh: %v", err)
	}
	e.authOK(t, r2.AccessToken, s.User.ID)
}

func TestRefreshReuseRevokesTheFamily(t *testing.T) {
	var logs strings.Builder
	e := newEnv(t, func(c *auth.Config) { c.Logger = newTextLogger(&logs) })
	s := e.signup(t)
	e.verify(t, s.User.ID, auth.ChannelEmail, "ada@example.com")
	other := e.login(t, auth.ChannelEmail, "ada@example.com") // another family of the same user

	r1, err := e.svc.Refresh(e.ctx, s.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.svc.Refresh(e.ctx, r1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// The first token, stolen and replayed.
	_, err = e.svc.Refresh(e.ctx, s.RefreshToken)
	wantErr(t, "replayed token", err, auth.ErrRefreshReused)
	if rv.KindOf(err) != rv.KindUnauthenticated {
		t.Errorf("reuse kind = %v", rv.KindOf(err))
	}
	// The newest token of the family stops working too.
	_, err = e.svc.Refresh(e.ctx, r2.RefreshToken)
	wantErr(t, "newest token of the family", err, auth.ErrTokenRevoked)
	// The other family survives.
	if _, err := e.svc.Refresh(e.ctx, other.RefreshToken); err != nil {
		t.Errorf("another family after reuse: %v", err)
	}
	if !strings.Contains(logs.String(), "reused") || !strings.Contains(logs.String(), s.User.ID) {
		t.Errorf("reuse not logged with the user: %q", logs.String())
	}
}

func TestConcurrentRefreshHasOneWinner(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	const callers = 50
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { _, errs[i] = e.svc.Refresh(e.ctx, s.RefreshToken) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, auth.ErrRefreshReused):
			t.Errorf("a losing refresh: %v, want ErrRefreshReused", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded, want exactly 1", wins, callers)
	}
}

func TestRefreshGraceWindow(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.RefreshGrace = 10 * time.Second })
	s := e.signup(t)
	r1, err := e.svc.Refresh(e.ctx, s.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// A second tab presents the same token two seconds later.
	e.clock.Advance(2 * time.Second)
	r2, err := e.svc.Refresh(e.ctx, s.RefreshToken)
	if err != nil {
		t.Fatalf("within the grace window: %v", err)
	}
	if r2.RefreshToken == r1.RefreshToken {
		t.Error("the grace window returned the same refresh token")
	}
	for _, r := range []auth.Session{r1, r2} {
		if _, err := e.svc.Refresh(e.ctx, r.RefreshToken); err != nil {
			t.Errorf("a successor from the grace window: %v", err)
		}
	}
	// Past the window, the old token is reuse.
	e.clock.Advance(20 * time.Second)
	_, err = e.svc.Refresh(e.ctx, s.RefreshToken)
	wantErr(t, "after the grace window", err, auth.ErrRefreshReused)
}

func TestRefreshErrors(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	unknown := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	for tok, want := range map[string]error{
		"":                      auth.ErrRefreshMissing,
		"  ":                    auth.ErrRefreshMissing,
		"garbage":               auth.ErrRefreshInvalid,
		s.AccessToken:           auth.ErrRefreshInvalid,
		unknown:                 auth.ErrRefreshInvalid,
		s.RefreshToken + "A":    auth.ErrRefreshInvalid,
		s.RefreshToken[:42]:     auth.ErrRefreshInvalid,
		strings.Repeat("+", 43): auth.ErrRefreshInvalid,
	} {
		_, err := e.svc.Refresh(e.ctx, tok)
		wantErr(t, fmt.Sprintf("Refresh(%.12q…)", tok), err, want)
	}
	e.clock.Advance(30 * 24 * time.Hour)
	_, err := e.svc.Refresh(e.ctx, s.RefreshToken)
	wantErr(t, "after 30 days", err, auth.ErrRefreshExpired)
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	e.verify(t, s.User.ID, auth.ChannelPhone, "+33612345678")
	other := e.login(t, auth.ChannelPhone, "+33612345678")
	r1, _ := e.svc.Refresh(e.ctx, s.RefreshToken)

	if err := e.svc.Logout(e.ctx, r1.RefreshToken); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	_, err := e.svc.Refresh(e.ctx, r1.RefreshToken)
	wantErr(t, "refresh after logout", err, auth.ErrTokenRevoked)
	for _, tok := range []string{r1.RefreshToken, s.RefreshToken, "", "garbage", base64.RawURLEncoding.EncodeToString(make([]byte, 32))} {
		if err := e.svc.Logout(e.ctx, tok); err != nil {
			t.Errorf("Logout(%.10q) again or unknown: %v", tok, err)
		}
	}
	// Other sessions live on.
	if _, err := e.svc.Refresh(e.ctx, other.RefreshToken); err != nil {
		t.Errorf("another session after logout: %v", err)
	}
	e.authOK(t, r1.AccessToken, s.User.ID) // until it expires
}

func TestLogoutAllCutsOffOlderAccessTokens(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t) // at 26.100
	e.verify(t, s.User.ID, auth.ChannelEmail, "ada@example.com")
	other := e.login(t, auth.ChannelEmail, "ada@example.com")
	e.authOK(t, s.AccessToken, s.User.ID)

	e.clock.Advance(300 * time.Millisecond) // 26.400
	if err := e.svc.LogoutAll(e.ctx, s.User.ID); err != nil {
		t.Fatalf("LogoutAll: %v", err)
	}
	for _, tok := range []string{s.AccessToken, other.AccessToken} {
		_, err := e.svc.Authenticate(e.ctx, tok)
		wantErr(t, "access token issued before LogoutAll", err, auth.ErrTokenRevoked)
	}
	for _, tok := range []string{s.RefreshToken, other.RefreshToken} {
		_, err := e.svc.Refresh(e.ctx, tok)
		wantErr(t, "refresh after LogoutAll", err, auth.ErrTokenRevoked)
	}

	// A login later within the same second gets a working token.
	e.clock.Advance(300 * time.Millisecond) // 26.700
	fresh := e.login(t, auth.ChannelEmail, "ada@example.com")
	oldIat, _ := issuedAtSecond(t, s.AccessToken)
	newIat, _ := issuedAtSecond(t, fresh.AccessToken)
	if oldIat != newIat {
		t.Fatalf("the test needs both tokens in one second: iat %d and %d", oldIat, newIat)
	}
	e.authOK(t, fresh.AccessToken, s.User.ID)
	if _, err := e.svc.Refresh(e.ctx, fresh.RefreshToken); err != nil {
		t.Errorf("refresh of a family started after LogoutAll: %v", err)
	}
	// The old token stays refused until it expires.
	e.clock.Advance(14 * time.Minute)
	_, err := e.svc.Authenticate(e.ctx, s.AccessToken)
	wantErr(t, "old token 14 minutes later", err, auth.ErrTokenRevoked)
}

func issuedAtSecond(t *testing.T, token string) (int64, error) {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatal(err)
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil {
		t.Fatalf("iat: %v", err)
	}
	return iat.Unix(), nil
}

func TestVerifyPhone(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	if err := e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelPhone, "+33 (6) 12-34.56 78", "203.0.113.7"); err != nil {
		t.Fatalf("StartVerification: %v", err)
	}
	sent := e.outbox.sent[0]
	if sent.ch != auth.ChannelPhone || sent.to != "+33612345678" || !regexp.MustCompile(`^[0-9]{6}$`).MatchString(sent.code) {
		t.Fatalf("sent %+v, want a 6-digit code to +33612345678 by phone", sent)
	}
	wrong := wrongCode(sent.code)
	_, err := e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelPhone, "+33612345678", wrong, "203.0.113.7")
	wantErr(t, "wrong code", err, auth.ErrCodeInvalid)
	u, err := e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelPhone, "+33 6 12 34 56 78", " "+sent.code+" ", "203.0.113.7")
	if err != nil {
		t.Fatalf("ConfirmVerification: %v", err)
	}
	if u.Phone != "+33612345678" {
		t.Errorf("Phone = %q", u.Phone)
	}
	if me, _ := e.svc.Me(e.ctx, s.User.ID); me.Phone != "+33612345678" {
		t.Errorf("Me().Phone = %q", me.Phone)
	}
	// Single use.
	_, err = e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelPhone, "+33612345678", sent.code, "203.0.113.7")
	wantErr(t, "the code again", err, auth.ErrCodeInvalid)
}

func TestVerifyEmailNormalises(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	u := e.verify(t, s.User.ID, auth.ChannelEmail, "  Ada.Lovelace@Example.COM ")
	if u.Email != "ada.lovelace@example.com" {
		t.Errorf("Email = %q", u.Email)
	}
	// A new email replaces the old one.
	u = e.verify(t, s.User.ID, auth.ChannelEmail, "ada@example.org")
	if u.Email != "ada@example.org" {
		t.Errorf("Email after a second verification = %q", u.Email)
	}
}

func TestVerificationCodeErrors(t *testing.T) {
	t.Run("expired", func(t *testing.T) {
		e := newEnv(t)
		s := e.signup(t)
		e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", "")
		code := e.outbox.last(t, "a@example.com")
		e.clock.Advance(10 * time.Minute)
		_, err := e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", code, "203.0.113.7")
		wantErr(t, "code after 10 minutes", err, auth.ErrCodeExpired)
	})
	t.Run("exhausted", func(t *testing.T) {
		e := newEnv(t)
		s := e.signup(t)
		e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", "")
		code := e.outbox.last(t, "a@example.com")
		for range 5 {
			_, err := e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", wrongCode(code), "203.0.113.7")
			wantErr(t, "wrong code", err, auth.ErrCodeInvalid)
		}
		_, err := e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", code, "203.0.113.7")
		wantErr(t, "right code after 5 wrong ones", err, auth.ErrCodeExhausted)
		if rv.KindOf(err) != rv.KindRateLimited {
			t.Errorf("kind = %v, want rate_limited", rv.KindOf(err))
		}
		// A new code works.
		e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", "")
		if _, err := e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", e.outbox.last(t, "a@example.com"), "203.0.113.7"); err != nil {
			t.Errorf("a new code after exhaustion: %v", err)
		}
	})
	t.Run("only the newest", func(t *testing.T) {
		e := newEnv(t)
		s := e.signup(t)
		e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", "")
		first := e.outbox.last(t, "a@example.com")
		e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", "")
		second := e.outbox.last(t, "a@example.com")
		if first == second {
			t.Skip("two random codes collided")
		}
		_, err := e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", first, "203.0.113.7")
		wantErr(t, "the older code", err, auth.ErrCodeInvalid)
		if _, err := e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", second, "203.0.113.7"); err != nil {
			t.Errorf("the newest code: %v", err)
		}
	})
	t.Run("bound to the user and identifier", func(t *testing.T) {
		e := newEnv(t)
		a, b := e.signup(t), e.signup(t)
		e.svc.StartVerification(e.ctx, a.User.ID, auth.ChannelEmail, "a@example.com", "")
		code := e.outbox.last(t, "a@example.com")
		_, err := e.svc.ConfirmVerification(e.ctx, b.User.ID, auth.ChannelEmail, "a@example.com", code, "203.0.113.7")
		wantErr(t, "another user's code", err, auth.ErrCodeInvalid)
		_, err = e.svc.ConfirmVerification(e.ctx, a.User.ID, auth.ChannelEmail, "b@example.com", code, "203.0.113.7")
		wantErr(t, "the code for another address", err, auth.ErrCodeInvalid)
		_, err = e.svc.Login(e.ctx, auth.ChannelEmail, "a@example.com", code, "203.0.113.7")
		wantErr(t, "a verification code used to log in", err, auth.ErrCodeInvalid)
	})
	t.Run("no code pending", func(t *testing.T) {
		e := newEnv(t)
		s := e.signup(t)
		_, err := e.svc.ConfirmVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", "123456", "203.0.113.7")
		wantErr(t, "confirm without start", err, auth.ErrCodeInvalid)
	})
}

func TestIdentityTakenByAnotherAccount(t *testing.T) {
	e := newEnv(t)
	a, b := e.signup(t), e.signup(t)
	e.verify(t, a.User.ID, auth.ChannelPhone, "+14155550123")
	// Starting is allowed (it does not tell who is registered)…
	if err := e.svc.StartVerification(e.ctx, b.User.ID, auth.ChannelPhone, "+14155550123", ""); err != nil {
		t.Fatalf("StartVerification: %v", err)
	}
	// …confirming is a conflict.
	_, err := e.svc.ConfirmVerification(e.ctx, b.User.ID, auth.ChannelPhone, "+14155550123", e.outbox.last(t, "+14155550123"), "203.0.113.7")
	wantErr(t, "confirming another account's phone", err, auth.ErrIdentityTaken)
	if rv.KindOf(err) != rv.KindConflict {
		t.Errorf("kind = %v, want conflict", rv.KindOf(err))
	}
}

func TestStartVerificationErrors(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	for _, c := range []struct {
		ch         auth.Channel
		identifier string
		want       error
	}{
		{"sms", "+33612345678", auth.ErrInvalidChannel},
		{auth.ChannelPhone, "0612345678", auth.ErrInvalidPhone},
		{auth.ChannelEmail, "not an email", auth.ErrInvalidEmail},
	} {
		err := e.svc.StartVerification(e.ctx, s.User.ID, c.ch, c.identifier, "")
		wantErr(t, fmt.Sprintf("StartVerification(%s, %q)", c.ch, c.identifier), err, c.want)
	}
	err := e.svc.StartVerification(e.ctx, "00000000-0000-4000-8000-000000000000", auth.ChannelEmail, "a@example.com", "")
	wantErr(t, "unknown user", err, auth.ErrUserNotFound)

	noSender := newEnv(t, func(c *auth.Config) { c.Sender = nil })
	s2 := noSender.signup(t)
	err = noSender.svc.StartVerification(noSender.ctx, s2.User.ID, auth.ChannelEmail, "a@example.com", "")
	wantErr(t, "no sender", err, auth.ErrVerificationUnavailable)
	err = noSender.svc.StartLogin(noSender.ctx, auth.ChannelEmail, "a@example.com", "")
	wantErr(t, "login without sender", err, auth.ErrVerificationUnavailable)
	if rv.KindOf(err) != rv.KindUnavailable {
		t.Errorf("kind = %v, want unavailable", rv.KindOf(err))
	}

	e.outbox.fail = errors.New("SMS provider down")
	err = e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelPhone, "+33612345678", "")
	wantErr(t, "failing sender", err, auth.ErrVerificationUnavailable)
}

func TestSendRateLimits(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	// The identifier's ceiling: 10 codes an hour, whoever asks.
	for i := range 10 {
		if err := e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", fmt.Sprintf("198.51.100.%d", i)); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
	}
	e.clock.Advance(10 * time.Minute)
	err := e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelEmail, "A@example.com", "198.51.100.99")
	wantErr(t, "eleventh code to one address", err, auth.ErrSendRateLimited)
	var ra interface{ RetryAfter() time.Duration }
	if !errors.As(err, &ra) || ra.RetryAfter() != 50*time.Minute {
		t.Errorf("retry after = %v, want 50m", ra)
	}
	if rv.CodeOf(err) != "RATE_LIMITED" || rv.KindOf(err) != rv.KindRateLimited {
		t.Errorf("code %s, kind %v", rv.CodeOf(err), rv.KindOf(err))
	}
	// Login requests count against the same identifier, known or not.
	err = e.svc.StartLogin(e.ctx, auth.ChannelEmail, "a@example.com", "198.51.100.98")
	wantErr(t, "login code to the same address", err, auth.ErrSendRateLimited)
	if n := e.outbox.count(); n != 10 {
		t.Errorf("%d codes sent, want 10", n)
	}
	e.clock.Advance(time.Hour)
	if err := e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", ""); err != nil {
		t.Errorf("after the window: %v", err)
	}

	// Per identifier and IP: 3 codes an hour.
	for i := range 3 {
		if err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, "b@example.com", "192.0.2.1"); err != nil {
			t.Fatalf("code %d to b from one IP: %v", i+1, err)
		}
	}
	err = e.svc.StartLogin(e.ctx, auth.ChannelEmail, "b@example.com", "192.0.2.1")
	wantErr(t, "fourth code to one address from one IP", err, auth.ErrSendRateLimited)
	if err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, "b@example.com", "192.0.2.2"); err != nil {
		t.Errorf("the same address from another IP: %v", err)
	}

	// Per IP: 20 codes an hour, whatever the identifier, unknown ones
	// included.
	ip := "203.0.113.50"
	for i := range 20 {
		if err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, fmt.Sprintf("nobody%d@example.com", i), ip); err != nil {
			t.Fatalf("login start %d: %v", i+1, err)
		}
	}
	err = e.svc.StartLogin(e.ctx, auth.ChannelEmail, "nobody-else@example.com", ip)
	wantErr(t, "21st request from one IP", err, auth.ErrSendRateLimited)
	if err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, "nobody-else@example.com", "203.0.113.51"); err != nil {
		t.Errorf("another IP: %v", err)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	e.verify(t, s.User.ID, auth.ChannelPhone, "+33612345678")
	sent := e.outbox.count()

	if err := e.svc.StartLogin(e.ctx, auth.ChannelPhone, "+33 6 12 34 56 78", "203.0.113.7"); err != nil {
		t.Fatalf("StartLogin: %v", err)
	}
	if e.outbox.count() != sent+1 {
		t.Fatal("no code sent to a known phone")
	}
	code := e.outbox.last(t, "+33612345678")
	_, err := e.svc.Login(e.ctx, auth.ChannelPhone, "+33612345678", wrongCode(code), "203.0.113.7")
	wantErr(t, "wrong code", err, auth.ErrCodeInvalid)
	in, err := e.svc.Login(e.ctx, auth.ChannelPhone, "+33612345678", code, "203.0.113.7")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if in.User.ID != s.User.ID || in.User.Phone != "+33612345678" || in.RefreshToken == "" {
		t.Errorf("Login session = %+v", in)
	}
	e.authOK(t, in.AccessToken, s.User.ID)
	if _, err := e.svc.Refresh(e.ctx, in.RefreshToken); err != nil {
		t.Errorf("refresh after login: %v", err)
	}
	// The sign-up session is another family, still alive.
	if _, err := e.svc.Refresh(e.ctx, s.RefreshToken); err != nil {
		t.Errorf("the sign-up session after a login: %v", err)
	}
	_, err = e.svc.Login(e.ctx, auth.ChannelPhone, "+33612345678", code, "203.0.113.7")
	wantErr(t, "login code reused", err, auth.ErrCodeInvalid)
}

func TestLoginDoesNotTellWhoIsRegistered(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	e.verify(t, s.User.ID, auth.ChannelEmail, "known@example.com")
	sent := e.outbox.count()

	// Start: the same answer, but nothing is sent to an unknown address.
	for _, addr := range []string{"known@example.com", "unknown@example.com"} {
		if err := e.svc.StartLogin(e.ctx, auth.ChannelEmail, addr, "203.0.113.7"); err != nil {
			t.Fatalf("StartLogin(%s): %v", addr, err)
		}
	}
	if e.outbox.count() != sent+1 || e.outbox.sent[len(e.outbox.sent)-1].to != "known@example.com" {
		t.Fatalf("sent %+v, want one code, to the known address", e.outbox.sent[sent:])
	}
	// Wrong codes, then exhaustion: the same errors for both.
	for _, addr := range []string{"known@example.com", "unknown@example.com"} {
		var got []string
		for range 6 {
			_, err := e.svc.Login(e.ctx, auth.ChannelEmail, addr, "000000", "203.0.113.7")
			got = append(got, rv.CodeOf(err))
		}
		want := "CODE_INVALID CODE_INVALID CODE_INVALID CODE_INVALID CODE_INVALID CODE_ATTEMPTS_EXCEEDED"
		if strings.Join(got, " ") != want {
			t.Errorf("%s: %v, want %s", addr, got, want)
		}
	}
	// Without a start, a code for an unknown address is just invalid.
	_, err := e.svc.Login(e.ctx, auth.ChannelEmail, "never@example.com", "123456", "203.0.113.7")
	wantErr(t, "login without start", err, auth.ErrCodeInvalid)
	// And expiry looks the same.
	for _, addr := range []string{"known@example.com", "unknown@example.com"} {
		e.svc.StartLogin(e.ctx, auth.ChannelEmail, addr, "")
	}
	e.clock.Advance(11 * time.Minute)
	for _, addr := range []string{"known@example.com", "unknown@example.com"} {
		_, err := e.svc.Login(e.ctx, auth.ChannelEmail, addr, "000000", "203.0.113.7")
		wantErr(t, addr+" after expiry", err, auth.ErrCodeExpired)
	}
}

func TestCodesAreHashedWithTheSecret(t *testing.T) {
	rec := &recordingStore{Store: memory.NewAuthStore(nil)}
	e := newEnv(t, func(c *auth.Config) { c.Store = rec })
	s := e.signup(t)
	e.svc.StartVerification(e.ctx, s.User.ID, auth.ChannelEmail, "a@example.com", "")
	code := e.outbox.last(t, "a@example.com")
	if len(rec.codes) != 1 {
		t.Fatalf("%d codes stored", len(rec.codes))
	}
	stored := rec.codes[0]
	plain := sha256.Sum256([]byte(code))
	if len(stored.Hash) != 32 || string(stored.Hash) == string(plain[:]) || strings.Contains(string(stored.Hash), code) {
		t.Errorf("stored hash %x is not a keyed hash of the code", stored.Hash)
	}
	if !stored.ExpiresAt.Equal(stored.CreatedAt.Add(10 * time.Minute)) {
		t.Errorf("code lifetime %v, want 10m", stored.ExpiresAt.Sub(stored.CreatedAt))
	}
	// The stored hash is bound to the code's key: the same code checked
	// for another identifier fails (see TestVerificationCodeErrors).
}

// recordingStore records the codes stored.
type recordingStore struct {
	auth.Store
	mu    sync.Mutex
	codes []auth.VerificationCode
}

func (r *recordingStore) PutCode(ctx context.Context, c auth.VerificationCode) error {
	r.mu.Lock()
	r.codes = append(r.codes, c)
	r.mu.Unlock()
	return r.Store.PutCode(ctx, c)
}

func TestUpdateProfile(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	e.clock.Advance(time.Second)
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	list := func(s ...string) *[]string { return &s }
	u, err := e.svc.UpdateProfile(e.ctx, s.User.ID, auth.ProfilePatch{
		DisplayName: str("  Ada  "), Bio: str("Hello\nworld"), Age: num(36), Gender: str("woman"),
		Interests: list(" maths ", "poetry"), PhotoURLs: list("https://cdn.example.com/ada.jpg"),
	})
	if err != nil {
		t.Fatalf("UpdateProfile: %v", err)
	}
	want := auth.Profile{DisplayName: "Ada", Bio: "Hello\nworld", Age: 36, Gender: "woman",
		Interests: []string{"maths", "poetry"}, PhotoURLs: []string{"https://cdn.example.com/ada.jpg"}}
	if fmt.Sprint(u.Profile) != fmt.Sprint(want) || !u.UpdatedAt.Equal(e.clock.Now()) {
		t.Errorf("profile = %+v at %v, want %+v", u.Profile, u.UpdatedAt, want)
	}
	u, err = e.svc.UpdateProfile(e.ctx, s.User.ID, auth.ProfilePatch{Bio: str("")})
	if err != nil || u.Bio != "" || u.DisplayName != "Ada" || u.Age != 36 {
		t.Errorf("partial update: %+v, %v", u.Profile, err)
	}
	_, err = e.svc.UpdateProfile(e.ctx, "00000000-0000-4000-8000-000000000000", auth.ProfilePatch{Bio: str("x")})
	wantErr(t, "unknown user", err, auth.ErrUserNotFound)

	// A refused patch changes nothing.
	_, err = e.svc.UpdateProfile(e.ctx, s.User.ID, auth.ProfilePatch{DisplayName: str("Grace"), Age: num(17)})
	wantErr(t, "age 17", err, auth.ErrInvalidProfile)
	if me, _ := e.svc.Me(e.ctx, s.User.ID); me.DisplayName != "Ada" {
		t.Errorf("a refused patch changed the display name to %q", me.DisplayName)
	}
}

func TestProfileRules(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	list := func(s ...string) *[]string { return &s }
	many := func(n int, f func(i int) string) *[]string {
		l := make([]string, n)
		for i := range l {
			l[i] = f(i)
		}
		return &l
	}
	bad := map[string]struct {
		patch auth.ProfilePatch
		field string
	}{
		"empty name":         {auth.ProfilePatch{DisplayName: str("   ")}, "displayName"},
		"long name":          {auth.ProfilePatch{DisplayName: str(strings.Repeat("é", 33))}, "displayName"},
		"control in name":    {auth.ProfilePatch{DisplayName: str("a\x00b")}, "displayName"},
		"newline in name":    {auth.ProfilePatch{DisplayName: str("a\nb")}, "displayName"},
		"invalid UTF-8 name": {auth.ProfilePatch{DisplayName: str("a\xffb")}, "displayName"},
		"long bio":           {auth.ProfilePatch{Bio: str(strings.Repeat("x", 501))}, "bio"},
		"control in bio":     {auth.ProfilePatch{Bio: str("a\x1bb")}, "bio"},
		"age 17":             {auth.ProfilePatch{Age: num(17)}, "age"},
		"age 121":            {auth.ProfilePatch{Age: num(121)}, "age"},
		"age 0":              {auth.ProfilePatch{Age: num(0)}, "age"},
		"gender":             {auth.ProfilePatch{Gender: str("female")}, "gender"},
		"empty gender":       {auth.ProfilePatch{Gender: str("")}, "gender"},
		"11 interests":       {auth.ProfilePatch{Interests: many(11, func(i int) string { return fmt.Sprint("i", i) })}, "interests"},
		"empty interest":     {auth.ProfilePatch{Interests: list("a", " ")}, "interests[1]"},
		"long interest":      {auth.ProfilePatch{Interests: list(strings.Repeat("x", 33))}, "interests[0]"},
		"repeated interest":  {auth.ProfilePatch{Interests: list("Jazz", "jazz")}, "interests[1]"},
		"7 photos":           {auth.ProfilePatch{PhotoURLs: many(7, func(i int) string { return fmt.Sprint("https://x.example/", i) })}, "photoUrls"},
		"http photo":         {auth.ProfilePatch{PhotoURLs: list("http://x.example/a.jpg")}, "photoUrls[0]"},
		"relative photo":     {auth.ProfilePatch{PhotoURLs: list("https://x.example/a.jpg", "/a.jpg")}, "photoUrls[1]"},
		"javascript photo":   {auth.ProfilePatch{PhotoURLs: list("javascript:alert(1)")}, "photoUrls[0]"},
		"no host":            {auth.ProfilePatch{PhotoURLs: list("https:///a.jpg")}, "photoUrls[0]"},
		"credentials":        {auth.ProfilePatch{PhotoURLs: list("https://user:pw@x.example/a.jpg")}, "photoUrls[0]"},
		"long photo URL":     {auth.ProfilePatch{PhotoURLs: list("https://x.example/" + strings.Repeat("a", 2048))}, "photoUrls[0]"},
	}
	for name, c := range bad {
		_, err := c.patch.Normalize()
		if !errors.Is(err, auth.ErrInvalidProfile) {
			t.Errorf("%s: %v, want ErrInvalidProfile", name, err)
			continue
		}
		if msg := rv.AsError(err).Message; !strings.HasPrefix(msg, c.field+" ") {
			t.Errorf("%s: message %q does not start with the field %s", name, msg, c.field)
		}
	}
	good := []auth.ProfilePatch{
		{DisplayName: str(strings.Repeat("é", 32))},
		{DisplayName: str("Zoë ✨")},
		{Bio: str(strings.Repeat("x", 500))},
		{Bio: str("line\n\tindented")},
		{Age: num(18)}, {Age: num(120)},
		{Gender: str("non_binary")}, {Gender: str("other")}, {Gender: str("man")},
		{Interests: many(10, func(i int) string { return fmt.Sprint("i", i) })},
		{Interests: list()},
		{PhotoURLs: many(6, func(i int) string { return fmt.Sprint("https://x.example/", i, ".jpg?size=large#top") })},
		{PhotoURLs: list("https://x.example/" + strings.Repeat("a", 2048-len("https://x.example/")))},
	}
	for i, p := range good {
		if _, err := p.Normalize(); err != nil {
			t.Errorf("good patch %d: %v", i, err)
		}
	}
}

func TestPublicProfileHidesIdentifiers(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	e.verify(t, s.User.ID, auth.ChannelPhone, "+33612345678")
	u := e.verify(t, s.User.ID, auth.ChannelEmail, "ada@example.com")
	b, err := json.Marshal(u.Public())
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"phone", "email", "+33612345678", "ada@example.com", "createdAt"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("public profile %s shows %q", b, leak)
		}
	}
	if !strings.Contains(string(b), `"id":"`+u.ID+`"`) || !strings.Contains(string(b), `"interests":[]`) {
		t.Errorf("public profile %s", b)
	}
	own, _ := json.Marshal(u)
	if !strings.Contains(string(own), `"phone":"+33612345678"`) || !strings.Contains(string(own), `"email":"ada@example.com"`) {
		t.Errorf("the owner's view %s lacks the identifiers", own)
	}
}

func TestDeleteAccount(t *testing.T) {
	e := newEnv(t)
	s := e.signup(t)
	e.verify(t, s.User.ID, auth.ChannelPhone, "+33612345678")
	other := e.login(t, auth.ChannelPhone, "+33612345678")
	e.clock.Advance(time.Millisecond)

	if err := e.svc.DeleteAccount(e.ctx, s.User.ID); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	for _, tok := range []string{s.AccessToken, other.AccessToken} {
		_, err := e.svc.Authenticate(e.ctx, tok)
		wantErr(t, "access token after delete", err, auth.ErrTokenRevoked)
	}
	for _, tok := range []string{s.RefreshToken, other.RefreshToken} {
		_, err := e.svc.Refresh(e.ctx, tok)
		wantErr(t, "refresh after delete", err, auth.ErrRefreshInvalid)
	}
	_, err := e.svc.Me(e.ctx, s.User.ID)
	wantErr(t, "Me after delete", err, auth.ErrUserNotFound)
	wantErr(t, "delete again", e.svc.DeleteAccount(e.ctx, s.User.ID), auth.ErrUserNotFound)

	// The phone is free for a new account, and logging in with it no
	// longer reaches the deleted one.
	n := e.signup(t)
	if u := e.verify(t, n.User.ID, auth.ChannelPhone, "+33612345678"); u.Phone != "+33612345678" {
		t.Errorf("the freed phone: %+v", u)
	}
	in := e.login(t, auth.ChannelPhone, "+33612345678")
	if in.User.ID != n.User.ID {
		t.Errorf("login reached %s, want the new account %s", in.User.ID, n.User.ID)
	}
}

func TestIdentifierNormalisation(t *testing.T) {
	phones := map[string]string{
		"+33612345678":        "+33612345678",
		" +33 6 12 34 56 78 ": "+33612345678",
		"+1 (415) 555-0123":   "+14155550123",
		"+44.20.7946.0958":    "+442079460958",
		"+12345678":           "+12345678",
		"+123456789012345":    "+123456789012345",
		"0612345678":          "",
		"33612345678":         "",
		"+0612345678":         "",
		"+1234567":            "",
		"+1234567890123456":   "",
		"+33 6 12 34 56 7a":   "",
		"++33612345678":       "",
		"+":                   "",
		"":                    "",
		"+33\u00a0612345678":  "",
		"+٣٣٦١٢٣٤٥٦٧٨":        "",
	}
	for in, want := range phones {
		got, err := auth.NormalizePhone(in)
		switch {
		case want == "" && !errors.Is(err, auth.ErrInvalidPhone):
			t.Errorf("NormalizePhone(%q) = %q, %v; want ErrInvalidPhone", in, got, err)
		case want != "" && (err != nil || got != want):
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := auth.NormalizePhone("0612345678"); !strings.Contains(rv.AsError(err).Message, "+") {
		t.Errorf("a number without + is refused with %q, which does not say why", rv.AsError(err).Message)
	}

	emails := map[string]string{
		"ada@example.com":                  "ada@example.com",
		"  Ada.Lovelace@Example.COM\t":     "ada.lovelace@example.com",
		"a+tag@sub.example.co.uk":          "a+tag@sub.example.co.uk",
		"Ada <ada@example.com>":            "",
		"<ada@example.com>":                "",
		"ada@example.com (Ada)":            "",
		"ada@localhost":                    "",
		"ada@example.":                     "",
		"ada@.example.com":                 "",
		"ada@example..com":                 "",
		"ada@[192.168.0.1]":                "",
		"ada":                              "",
		"@example.com":                     "",
		"ada@":                             "",
		"a@b@example.com":                  "",
		"ada@example.com, bob@example.com": "",
		"":                                 "",
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com": "",
	}
	for in, want := range emails {
		got, err := auth.NormalizeEmail(in)
		switch {
		case want == "" && !errors.Is(err, auth.ErrInvalidEmail):
			t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalidEmail", in, got, err)
		case want != "" && (err != nil || got != want):
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" // 254
	if got, err := auth.NormalizeEmail(long); err != nil || len(got) != 254 {
		t.Errorf("a 254-character address: %v", err)
	}
	if _, err := auth.NormalizeIdentifier("fax", "x"); !errors.Is(err, auth.ErrInvalidChannel) {
		t.Errorf("unknown channel: %v", err)
	}
}

// wrongCode returns a code that differs from code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestLogSender(t *testing.T) {
	var buf strings.Builder
	s := auth.LogSender{Logger: newTextLogger(&buf)}
	if err := s.SendCode(context.Background(), auth.ChannelEmail, "ada@example.com", "123456"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"level=WARN", "channel=email", "to=ada@example.com", "code=123456"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
}

func TestOnSignupHook(t *testing.T) {
	var got []string
	cfg := auth.Config{
		Store: memory.NewAuthStore(nil), Cutoffs: memory.NewCutoffStore(nil), Secret: []byte("0123456789abcdef0123456789abcdef"),
		OnSignup: func(_ context.Context, u auth.User) error {
			got = append(got, u.ID)
			return errors.New("bonus service down")
		},
	}
	svc, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := svc.SignupAnonymous(context.Background())
	if err != nil {
		t.Fatalf("a failing hook failed the sign-up: %v", err)
	}
	if len(got) != 1 || got[0] != sess.User.ID {
		t.Fatalf("hook saw %v", got)
	}
}
