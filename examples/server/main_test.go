package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rendezvous-go/rendezvous/internal/logbuf"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rendezvous-go/rendezvous/internal/siotest"
	"github.com/rendezvous-go/rendezvous/internal/testenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.RoomCodeLength != 4 || c.ThrottleLimit != 20 || c.ThrottleTTL != time.Minute ||
		c.ShutdownTimeout != 10*time.Second || !c.JWTSecretGenerated || c.RedisURL != "" || c.DatabaseURL != "" ||
		len(c.CORSOrigins) != 1 || c.CORSOrigins[0] != "*" || c.CookieSecure {
		t.Fatalf("defaults %+v", c)
	}
	if c.RedisCommandTimeout != time.Second || c.RedisMaxRetries != 3 || c.RedisBreakerFailures != 5 || c.RedisBreakerCooldown != 2*time.Second ||
		c.HTTPReadTimeout != 10*time.Second || c.HTTPWriteTimeout != 55*time.Second || c.HTTPIdleTimeout != time.Minute || c.HTTPMaxHeaderBytes != 16384 {
		t.Fatalf("Redis and HTTP defaults %+v", c)
	}
	if c.RoomMaxSocketsPerUser != 5 || c.SocketConnectRate != 50 || len(c.TrustedProxies) != 0 || c.PresenceTTL != 30*time.Second {
		t.Fatalf("socket limit defaults %+v", c)
	}
	c, err = loadConfig(env(map[string]string{"ROOM_MAX_SOCKETS_PER_USER": "0", "SOCKET_CONNECT_RATE": "0", "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7,fd00::/8", "PRESENCE_TTL_SECONDS": "2"}))
	if err != nil || c.RoomMaxSocketsPerUser >= 0 || c.SocketConnectRate >= 0 || len(c.TrustedProxies) != 3 || c.PresenceTTL != 2*time.Second ||
		c.TrustedProxies[1].String() != "192.168.1.7/32" {
		t.Fatalf("0 disables, proxies parsed: %+v %v", c, err)
	}
	c, err = loadConfig(env(map[string]string{"REDIS_HOST": "cache", "REDIS_PORT": "6380", "CORS_ORIGINS": "https://a.example, https://b.example"}))
	if err != nil || c.RedisURL != "redis://cache:6380/0" || len(c.CORSOrigins) != 2 || c.CORSOrigins[1] != "https://b.example" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestLoadConfigReportsEveryError(t *testing.T) {
	_, err := loadConfig(env(map[string]string{
		"PORT": "http", "ROOM_CODE_LENGTH": "99", "THROTTLE_LIMIT": "-1", "LOG_LEVEL": "loud",
		"USER_DISPLAY_NAME_MIN_LENGTH": "10", "USER_DISPLAY_NAME_MAX_LENGTH": "5", "TRUST_PROXY": "maybe",
		"TRUSTED_PROXIES": "10.0.0.0/33", "SOCKET_CONNECT_RATE": "-2", "ROOM_MAX_SOCKETS_PER_USER": "many",
		"PRESENCE_TTL_SECONDS": "0",
	}))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{"PORT", "ROOM_CODE_LENGTH", "THROTTLE_LIMIT", "LOG_LEVEL", "USER_DISPLAY_NAME_MAX_LENGTH", "TRUST_PROXY", "TRUSTED_PROXIES", "SOCKET_CONNECT_RATE", "ROOM_MAX_SOCKETS_PER_USER", "PRESENCE_TTL_SECONDS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	_, err = loadConfig(env(map[string]string{"NODE_ENV": "production"}))
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET is required") {
		t.Fatalf("production without secret: %v", err)
	}
	_, err = loadConfig(env(map[string]string{"NODE_ENV": "production", "JWT_SECRET": "short-but-16-bytes!"}))
	if err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Fatalf("production with a short secret: %v", err)
	}
	c, err := loadConfig(env(withAgora(map[string]string{"NODE_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32), "CORS_ORIGINS": "https://app.example"})))
	if err != nil || !c.CookieSecure {
		t.Fatalf("production: %+v %v", c, err)
	}
}

// start runs the server with vars on a loopback port; stop cancels it and
// returns what serve returned.
func start(t testing.TB, vars map[string]string) (base string, stop func() error) {
	t.Helper()
	cfg, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln, ready) }()
	addr := <-ready
	var stopped bool
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		err := <-done
		a.close()
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + addr, stop
}

func post(t *testing.T, url, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestGracefulShutdown(t *testing.T) {
	base, stop := start(t, map[string]string{"SHUTDOWN_TIMEOUT_MS": "3000"})
	res, body := post(t, base+"/rooms", `{"displayName":"Host"}`)
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var tk struct{ Token string }
	_ = json.Unmarshal(body, &tk)
	c, err := siotest.Dial(context.Background(), base, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p, err := c.Connect("/rooms", map[string]string{"token": tk.Token}, 5*time.Second); err != nil || p.Type != 0 {
		t.Fatalf("connect: %v %s", err, p.Data)
	}
	began := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if d := time.Since(began); d > 3*time.Second {
		t.Fatalf("shutdown took %s", d)
	}
	// The socket was told (Engine.IO close) rather than dropped silently,
	// and no DISCONNECT was sent, so a real client reconnects elsewhere.
	_, err = c.Wait(time.Second, func(p siotest.Packet) bool { return p.Type == 1 })
	if err == nil || err == siotest.ErrTimeout {
		t.Fatalf("socket after shutdown: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

// With DATABASE_URL the accounts survive a restart; with REDIS_URL the
// rooms do.
func TestDurableStateAcrossRestart(t *testing.T) {
	_, prefix := testenv.Redis(t)
	redisURL := testenv.RedisURL(t)
	vars := map[string]string{
		"DATABASE_URL": schemaURL(t),
		"REDIS_URL":    redisURL, "REDIS_PREFIX": prefix,
		"JWT_SECRET": "durable-secret-durable-secret-durable",
	}

	base, stop := start(t, vars)
	res, body := post(t, base+"/auth/signup-anonymous", "")
	if res.StatusCode != 201 {
		t.Fatalf("signup: %d %s", res.StatusCode, body)
	}
	var refresh string
	for _, c := range res.Cookies() {
		if c.Name == "refresh_token" {
			refresh = c.Value
		}
	}
	res, body = post(t, base+"/rooms", `{"displayName":"Host"}`)
	var tk struct{ RoomCode, Token string }
	_ = json.Unmarshal(body, &tk)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	base, _ = start(t, vars) // migrations run again: a no-op
	res, body = post(t, base+"/auth/refresh", "", "Cookie", "refresh_token="+refresh)
	if res.StatusCode != 200 {
		t.Fatalf("refresh after restart: %d %s", res.StatusCode, body)
	}
	res, body = post(t, base+"/rooms/"+tk.RoomCode+"/rejoin", "", "Authorization", "Bearer "+tk.Token)
	if res.StatusCode != 200 {
		t.Fatalf("rejoin after restart: %d %s", res.StatusCode, body)
	}
	conn, err := pgx.Connect(context.Background(), vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&n); err != nil || n != 1 {
		t.Fatalf("users in Postgres: %d %v", n, err)
	}
}

func TestMigrateCommand(t *testing.T) {
	if err := migrateOnly(context.Background(), env(nil)); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("without DATABASE_URL: %v", err)
	}
}

func TestWalletWiring(t *testing.T) {
	base, _ := start(t, map[string]string{
		"SIGNUP_BONUS_TOKENS": "2",
		"STRIPE_SECRET_KEY":   "sk_test_123", "STRIPE_WEBHOOK_SECRET": "whsec_x",
		"STRIPE_API_BASE":    testenv.StripeMockURL(t),
		"STRIPE_SUCCESS_URL": "https://app.example/paid", "STRIPE_CANCEL_URL": "https://app.example/shop",
		"STRIPE_PRICE_PLUS": "price_plus", "TOKEN_PACK_STARTER_AMOUNT": "499",
	})
	res, body := post(t, base+"/auth/signup-anonymous", "")
	var s struct{ AccessToken string }
	_ = json.Unmarshal(body, &s)
	req, _ := http.NewRequest("GET", base+"/tokens/balance", nil)
	req.Header.Set("Authorization", "Bearer "+s.AccessToken)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if res.StatusCode != 201 || strings.TrimSpace(string(b)) != `{"balance":2}` {
		t.Fatalf("signup %d, balance %s", res.StatusCode, b)
	}
	for _, pack := range []string{"starter", "plus"} {
		res, body = post(t, base+"/tokens/purchase", `{"packId":"`+pack+`"}`, "Authorization", "Bearer "+s.AccessToken)
		if res.StatusCode != 201 {
			t.Fatalf("purchase %s: %d %s", pack, res.StatusCode, body)
		}
	}
	// pro has neither a price id nor an amount.
	res, body = post(t, base+"/tokens/purchase", `{"packId":"pro"}`, "Authorization", "Bearer "+s.AccessToken)
	if res.StatusCode != 503 || !strings.Contains(string(body), "PACK_NOT_PURCHASABLE") {
		t.Fatalf("purchase pro: %d %s", res.StatusCode, body)
	}
}

// In production the allowed origins must be chosen: no silent "*".
func TestLoadConfigCORSInProduction(t *testing.T) {
	prod := func(extra map[string]string) (config, error) {
		vars := withAgora(map[string]string{"NODE_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32)})
		for k, v := range extra {
			vars[k] = v
		}
		return loadConfig(env(vars))
	}
	for _, vars := range []map[string]string{nil, {"CORS_ORIGINS": " "}, {"CORS_ORIGINS": " , "}, {"PRODUCTION": "true", "NODE_ENV": ""}} {
		if _, err := prod(vars); err == nil || !strings.Contains(err.Error(), "CORS_ORIGINS") {
			t.Errorf("production with %v: %v, want a CORS_ORIGINS error", vars, err)
		}
	}
	c, err := prod(map[string]string{"CORS_ORIGINS": "*"})
	if err != nil || len(c.CORSOrigins) != 1 || c.CORSOrigins[0] != "*" {
		t.Errorf("explicit *: %v %v", c.CORSOrigins, err)
	}
	c, err = prod(map[string]string{"CORS_ORIGINS": "https://app.example, http://localhost:5173"})
	if err != nil || len(c.CORSOrigins) != 2 || c.CORSOrigins[1] != "http://localhost:5173" {
		t.Errorf("a list: %v %v", c.CORSOrigins, err)
	}
	for _, bad := range []string{"app.example", "https://app.example/", "ftp://app.example", "https://app.example/path"} {
		if _, err := prod(map[string]string{"CORS_ORIGINS": "https://ok.example," + bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("origin %q: %v, want it named in an error", bad, err)
		}
	}
	// Outside production the default stays "*".
	if c, err := loadConfig(env(nil)); err != nil || c.CORSOrigins[0] != "*" {
		t.Errorf("development default: %v %v", c.CORSOrigins, err)
	}
}

// An explicit "*" in production is accepted, with a warning at start-up.
func TestCORSWildcardInProductionWarns(t *testing.T) {
	cfg, err := loadConfig(env(withAgora(map[string]string{"NODE_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32), "CORS_ORIGINS": "*"})))
	if err != nil {
		t.Fatal(err)
	}
	var logs logbuf.Buffer
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"CORS_ORIGINS is \"*\" in production`) {
		t.Errorf("no warning about CORS_ORIGINS=*: %s", logs.String())
	}
}

func TestLoadConfigTimeouts(t *testing.T) {
	c, err := loadConfig(env(map[string]string{
		"HTTP_READ_TIMEOUT_MS": "2500", "HTTP_WRITE_TIMEOUT_MS": "90000", "HTTP_IDLE_TIMEOUT_MS": "30000", "HTTP_MAX_HEADER_BYTES": "8192",
		"REDIS_COMMAND_TIMEOUT": "300", "REDIS_MAX_RETRIES": "0", "REDIS_BREAKER_FAILURES": "0", "REDIS_BREAKER_COOLDOWN_MS": "500",
	}))
	if err != nil || c.HTTPReadTimeout != 2500*time.Millisecond || c.HTTPWriteTimeout != 90*time.Second || c.HTTPIdleTimeout != 30*time.Second ||
		c.HTTPMaxHeaderBytes != 8192 || c.RedisCommandTimeout != 300*time.Millisecond || c.RedisMaxRetries != 0 ||
		c.RedisBreakerFailures != 0 || c.RedisBreakerCooldown != 500*time.Millisecond {
		t.Fatalf("%+v %v", c, err)
	}
	// The write timeout follows the heartbeat by default.
	c, err = loadConfig(env(map[string]string{"SOCKETIO_PING_INTERVAL_MS": "1000", "SOCKETIO_PING_TIMEOUT_MS": "500"}))
	if err != nil || c.HTTPWriteTimeout != 11500*time.Millisecond {
		t.Fatalf("write timeout with a short heartbeat: %v %v", c.HTTPWriteTimeout, err)
	}
	_, err = loadConfig(env(map[string]string{
		"HTTP_READ_TIMEOUT_MS": "0", "HTTP_WRITE_TIMEOUT_MS": "45000", "HTTP_IDLE_TIMEOUT_MS": "soon", "HTTP_MAX_HEADER_BYTES": "100",
		"REDIS_COMMAND_TIMEOUT": "0", "REDIS_BREAKER_FAILURES": "-1", "REDIS_BREAKER_COOLDOWN_MS": "0",
	}))
	for _, name := range []string{"HTTP_READ_TIMEOUT_MS", "HTTP_WRITE_TIMEOUT_MS", "HTTP_IDLE_TIMEOUT_MS", "HTTP_MAX_HEADER_BYTES",
		"REDIS_COMMAND_TIMEOUT", "REDIS_BREAKER_FAILURES", "REDIS_BREAKER_COOLDOWN_MS"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

// The readiness check returns at its deadline even when a store ignores
// its context.
func TestReadinessReturnsAtItsDeadline(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck)
	ready := readiness([]func(context.Context) error{
		func(context.Context) error { return nil },
		func(context.Context) error { <-stuck; return nil },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ready(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("readiness: %v, want the deadline", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("readiness did not return at its deadline")
	}
	failing := errors.New("down")
	if err := readiness([]func(context.Context) error{
		func(context.Context) error { <-stuck; return nil },
		func(context.Context) error { return failing },
	})(context.Background()); err != failing {
		t.Fatalf("readiness with a failing store: %v", err)
	}
	if err := readiness(nil)(context.Background()); err != nil {
		t.Fatalf("no stores: %v", err)
	}
}

func TestStripeConfigNeedsItsSecrets(t *testing.T) {
	_, err := loadConfig(env(map[string]string{"STRIPE_SECRET_KEY": "sk_test_123"}))
	if err == nil || !strings.Contains(err.Error(), "STRIPE_WEBHOOK_SECRET") || !strings.Contains(err.Error(), "STRIPE_SUCCESS_URL") {
		t.Fatalf("%v", err)
	}
}

// The read timeout bounds how long a request takes to arrive, not how long
// the server holds it: a long-polling GET outlives it and gets its ping.
func TestLongPollingOutlivesTheReadTimeout(t *testing.T) {
	base, _ := start(t, map[string]string{
		"HTTP_READ_TIMEOUT_MS": "200", "SOCKETIO_PING_INTERVAL_MS": "1000", "SOCKETIO_PING_TIMEOUT_MS": "500",
	})
	get := func(url string) string {
		t.Helper()
		res, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
		}
		return string(b)
	}
	open := get(base + "/socket.io/?EIO=4&transport=polling")
	var handshake struct{ Sid string }
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &handshake) != nil {
		t.Fatalf("open packet %q", open)
	}
	began := time.Now()
	if p := get(base + "/socket.io/?EIO=4&transport=polling&sid=" + handshake.Sid); p != "2" {
		t.Fatalf("held poll answered %q, want the ping", p)
	}
	t.Logf("poll held %s with a 200 ms read timeout", time.Since(began).Round(time.Millisecond))
}

// withAgora adds Agora credentials (required in production) to vars.
func withAgora(vars map[string]string) map[string]string {
	vars["AGORA_APP_ID"] = "970CA35de60c44645bbae8a215061b33"
	vars["AGORA_APP_CERTIFICATE"] = "5CFd2fd1755d40ecb72977518be15d3b"
	return vars
}

// The dating loop's settings: defaults, bounds, and Agora's credentials,
// which go together and are required in production.
func TestLoadConfigDating(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.QueueTick != 500*time.Millisecond || c.QueueDisconnectGrace != 10*time.Second || c.SessionDuration != 45*time.Second ||
		c.OptinWindow != time.Minute || c.AgoraTokenTTL != 120*time.Second || c.AgoraAppID != "" {
		t.Errorf("defaults: %+v", c)
	}
	for _, tick := range []string{"50", "60000"} {
		if _, err := loadConfig(env(map[string]string{"QUEUE_TICK_MS": tick})); err != nil {
			t.Errorf("QUEUE_TICK_MS=%s: %v", tick, err)
		}
	}
	bad := map[string]string{
		"QUEUE_TICK_MS": "49", "QUEUE_DISCONNECT_GRACE_SECONDS": "0", "SESSION_DURATION_SECONDS": "0",
		"OPTIN_WINDOW_SECONDS": "x", "AGORA_TOKEN_TTL_SECONDS": "5",
	}
	_, err = loadConfig(env(bad))
	for name := range bad {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if _, err := loadConfig(env(map[string]string{"AGORA_APP_ID": "970CA35de60c44645bbae8a215061b33"})); err == nil || !strings.Contains(err.Error(), "AGORA_APP_CERTIFICATE") {
		t.Errorf("app id without certificate: %v", err)
	}
	prod := map[string]string{"NODE_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32), "CORS_ORIGINS": "*"}
	if _, err := loadConfig(env(prod)); err == nil || !strings.Contains(err.Error(), "AGORA_APP_ID and AGORA_APP_CERTIFICATE are required in production") {
		t.Errorf("production without Agora: %v", err)
	}
	if _, err := loadConfig(env(withAgora(prod))); err != nil {
		t.Errorf("production with Agora: %v", err)
	}
}

// schemaURL creates a Postgres schema of the test's own, dropped when the
// test ends, and returns a DATABASE_URL whose connections use it.
func schemaURL(t *testing.T) string {
	t.Helper()
	dbURL := testenv.PostgresURL(t)
	schema := fmt.Sprintf("t_server_%d", time.Now().UnixNano())
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		conn.Close(context.Background())
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	return dbURL + sep + "search_path=" + schema
}

// Chat and moderation settings: defaults, bounds, and what goes together.
func TestLoadConfigChatModeration(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ChatMessageRate != 5 || c.ChatMessageBurst != 20 || c.ModerationBanThreshold != 3 ||
		c.ModerationWindow != 24*time.Hour || c.ModerationBanDuration != 24*time.Hour || c.AdminToken != "" || c.HiveStreamURL != "" {
		t.Errorf("defaults: %+v", c)
	}
	bad := map[string]string{
		"CHAT_MESSAGE_RATE": "0", "CHAT_MESSAGE_BURST": "0", "MODERATION_BAN_THRESHOLD": "0",
		"MODERATION_WINDOW_HOURS": "x", "MODERATION_BAN_HOURS": "0", "ADMIN_TOKEN": "short",
		"HIVE_SCREENSHOT_URL": "ftp://x",
	}
	_, err = loadConfig(env(bad))
	for name := range bad {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	for _, c := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"HIVE_STREAM_URL": "https://hive.example/stream"}, "HIVE_API_KEY"},
		{map[string]string{"HIVE_SCREENSHOT_URL": "https://hive.example/shot"}, "HIVE_STREAM_URL"},
		{map[string]string{"HIVE_STREAM_URL": "https://hive.example/stream", "HIVE_API_KEY": "k"}, "AGORA_APP_ID"},
	} {
		if _, err := loadConfig(env(c.vars)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %s", c.vars, err, c.want)
		}
	}
	ok := withAgora(map[string]string{"HIVE_STREAM_URL": "https://hive.example/stream", "HIVE_API_KEY": "k", "HIVE_SCREENSHOT_URL": "https://hive.example/shot"})
	if c, err := loadConfig(env(ok)); err != nil || c.HiveScreenshotURL == "" {
		t.Errorf("a full Hive set-up: %v", err)
	}
}
