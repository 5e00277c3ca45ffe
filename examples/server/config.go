package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// config is everything the server reads from its environment.
type config struct {
	Port       int
	Production bool
	LogLevel   string
	// Host is the bind address of the public listener ("": every
	// interface).
	Host string
	// Metrics serves GET /metrics (METRICS, default true).
	Metrics bool
	// DebugAddr is the address of the pprof listener ("": none).
	DebugAddr string

	JWTSecret          []byte
	JWTSecretGenerated bool

	RedisURL             string
	RedisPrefix          string
	RedisMaxRetries      int
	RedisConnectTimeout  time.Duration
	RedisCommandTimeout  time.Duration
	RedisBreakerFailures int // 0: no circuit breaker
	RedisBreakerCooldown time.Duration

	DatabaseURL     string
	DatabaseMigrate bool

	CookieSecure bool
	RefreshGrace time.Duration

	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string
	StripeSuccessURL    string
	StripeCancelURL     string
	SignupBonusTokens   int
	Packs               []packConfig
	PackCurrency        string

	CORSOrigins []string
	APIPrefix   string
	TrustProxy  bool
	// TrustedProxies are the CIDRs of the proxies in front of the server.
	TrustedProxies []netip.Prefix

	HTTPReadTimeout    time.Duration
	HTTPWriteTimeout   time.Duration
	HTTPIdleTimeout    time.Duration
	HTTPMaxHeaderBytes int

	RoomCodeAlphabet string
	RoomCodeLength   int
	RoomMaxUsers     int
	RoomTTL          time.Duration
	// PresenceTTL is how long a socket's presence lives without a refresh
	// (rooms.Config.PresenceTTL).
	PresenceTTL          time.Duration
	RoomCloseOnHostLeave bool
	DisplayNameMin       int
	DisplayNameMax       int
	ThrottleTTL          time.Duration
	ThrottleLimit        int
	SocketEventRate      float64
	SocketEventBurst     int
	// RoomMaxSocketsPerUser caps one user's sockets per namespace on this
	// instance; negative disables.
	RoomMaxSocketsPerUser int
	// SocketConnectRate is new Engine.IO sessions per second per client
	// IP; negative disables.
	SocketConnectRate      float64
	ShutdownTimeout        time.Duration
	SocketIOPingIntervalMS int
	SocketIOPingTimeoutMS  int
	// SocketIOConnectTimeout closes Engine.IO connections without a
	// namespace socket.
	SocketIOConnectTimeout time.Duration

	// The dating loop: queue, video sessions, double opt-in.
	QueueTick            time.Duration
	QueueDisconnectGrace time.Duration
	SessionDuration      time.Duration
	OptinWindow          time.Duration
	AgoraAppID           string
	AgoraAppCertificate  string
	AgoraTokenTTL        time.Duration

	// Chat and moderation.
	ChatMessageRate        float64
	ChatMessageBurst       int
	HiveStreamURL          string
	HiveScreenshotURL      string
	HiveAPIKey             string
	HiveWebhookSecret      string
	ModerationBanThreshold int
	ModerationWindow       time.Duration
	ModerationBanDuration  time.Duration
	AdminToken             string
}

// packConfig is one token pack as configured.
type packConfig struct {
	ID      string
	Tokens  int
	PriceID string
	Amount  int64
}

// envReader reads typed values and collects every error, so that a bad
// configuration is reported whole at start-up.
type envReader struct {
	get  func(string) string
	errs []error
}

func (e *envReader) str(name, def string) string {
	if v := strings.TrimSpace(e.get(name)); v != "" {
		return v
	}
	return def
}

func (e *envReader) int(name string, def, lo, hi int) int {
	v := strings.TrimSpace(e.get(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		e.errs = append(e.errs, fmt.Errorf("%s must be a whole number from %d to %d, not %q", name, lo, hi, v))
		return def
	}
	return n
}

// prefixes reads a comma-separated list of CIDRs (a bare address counts as
// a single-address prefix).
func (e *envReader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Split(e.get(name), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				e.errs = append(e.errs, fmt.Errorf("%s: %q is not a CIDR such as 10.0.0.0/8", name, f))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out
}

// disabledAtZero maps an environment value where 0 disables a limit to the
// library's convention, where a negative value disables it.
func disabledAtZero(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func (e *envReader) float(name string, def float64) float64 {
	v := strings.TrimSpace(e.get(name))
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s must be a number, not %q", name, v))
		return def
	}
	return f
}

func (e *envReader) bool(name string, def bool) bool {
	v := strings.TrimSpace(e.get(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s must be true or false, not %q", name, v))
		return def
	}
	return b
}

func (e *envReader) ms(name string, def, lo, hi int) time.Duration {
	return time.Duration(e.int(name, def, lo, hi)) * time.Millisecond
}

const maxInt = int(^uint(0) >> 1)

// loadConfig reads the configuration; see the README's table.
func loadConfig(getenv func(string) string) (config, error) {
	e := &envReader{get: getenv}
	var c config
	c.Port = e.int("PORT", 3000, 0, 65535)
	e.observability(&c)
	c.Production = strings.EqualFold(e.str("NODE_ENV", ""), "production") || e.bool("PRODUCTION", false)
	c.LogLevel = strings.ToLower(e.str("LOG_LEVEL", "info"))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		e.errs = append(e.errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel))
	}

	secret := e.get("JWT_SECRET")
	switch {
	case secret == "" && c.Production:
		e.errs = append(e.errs, errors.New("JWT_SECRET is required in production"))
	case secret == "":
		var b [32]byte
		_, _ = rand.Read(b[:])
		c.JWTSecret = []byte(hex.EncodeToString(b[:]))
		c.JWTSecretGenerated = true
	case len(secret) < 32 && c.Production:
		e.errs = append(e.errs, errors.New("JWT_SECRET must be at least 32 bytes in production"))
	case len(secret) < 16:
		e.errs = append(e.errs, errors.New("JWT_SECRET must be at least 16 bytes"))
	default:
		c.JWTSecret = []byte(secret)
	}

	c.RedisURL = e.str("REDIS_URL", "")
	if c.RedisURL == "" {
		if host := e.str("REDIS_HOST", ""); host != "" {
			port := e.int("REDIS_PORT", 6379, 1, 65535)
			c.RedisURL = fmt.Sprintf("redis://%s:%d/0", host, port)
		}
	}
	c.RedisPrefix = e.str("REDIS_PREFIX", "rv:")
	c.RedisMaxRetries = e.int("REDIS_MAX_RETRIES", 3, 0, 100)
	c.RedisConnectTimeout = e.ms("REDIS_CONNECT_TIMEOUT", 10000, 1, 600000)
	c.RedisCommandTimeout = e.ms("REDIS_COMMAND_TIMEOUT", 1000, 1, 600000)
	c.RedisBreakerFailures = e.int("REDIS_BREAKER_FAILURES", 5, 0, 1000000)
	c.RedisBreakerCooldown = e.ms("REDIS_BREAKER_COOLDOWN_MS", 2000, 1, 3600000)

	c.DatabaseURL = e.str("DATABASE_URL", "")
	c.DatabaseMigrate = e.bool("DATABASE_MIGRATE", true)
	c.CookieSecure = e.bool("COOKIE_SECURE", c.Production)
	c.RefreshGrace = e.ms("AUTH_REFRESH_GRACE_MS", 0, 0, 60000)

	c.StripeSecretKey = e.str("STRIPE_SECRET_KEY", "")
	c.StripeWebhookSecret = e.str("STRIPE_WEBHOOK_SECRET", "")
	c.StripeAPIBase = e.str("STRIPE_API_BASE", "")
	c.StripeSuccessURL = e.str("STRIPE_SUCCESS_URL", "")
	c.StripeCancelURL = e.str("STRIPE_CANCEL_URL", "")
	// Outside production new accounts get a few tokens, so that the demo's
	// dating loop works on a fresh clone with nothing configured.
	bonus := 3
	if c.Production {
		bonus = 0
	}
	c.SignupBonusTokens = e.int("SIGNUP_BONUS_TOKENS", bonus, 0, 1000000)
	c.PackCurrency = strings.ToLower(e.str("TOKEN_PACK_CURRENCY", "usd"))
	for _, p := range []struct {
		id, env string
		tokens  int
	}{{"starter", "STARTER", 5}, {"plus", "PLUS", 15}, {"pro", "PRO", 30}} {
		c.Packs = append(c.Packs, packConfig{
			ID:      p.id,
			Tokens:  e.int("TOKEN_PACK_"+p.env+"_TOKENS", p.tokens, 1, 1000000),
			PriceID: e.str("STRIPE_PRICE_"+p.env, ""),
			Amount:  int64(e.int("TOKEN_PACK_"+p.env+"_AMOUNT", 0, 0, 100000000)),
		})
	}
	if c.StripeSecretKey != "" {
		if c.StripeWebhookSecret == "" {
			e.errs = append(e.errs, errors.New("STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY"))
		}
		if c.StripeSuccessURL == "" || c.StripeCancelURL == "" {
			e.errs = append(e.errs, errors.New("STRIPE_SUCCESS_URL and STRIPE_CANCEL_URL are required with STRIPE_SECRET_KEY"))
		}
	}

	c.CORSOrigins = e.origins("CORS_ORIGINS", c.Production)
	c.APIPrefix = e.str("API_PREFIX", "")
	c.TrustProxy = e.bool("TRUST_PROXY", false)
	c.TrustedProxies = e.prefixes("TRUSTED_PROXIES")

	c.RoomCodeAlphabet = e.str("ROOM_CODE_ALPHABET", "")
	c.RoomCodeLength = e.int("ROOM_CODE_LENGTH", 4, 1, 16)
	c.RoomMaxUsers = e.int("ROOM_MAX_USERS", 8, 1, 100000)
	c.RoomTTL = time.Duration(e.int("ROOM_TTL_SECONDS", 14400, 1, 30*86400)) * time.Second
	c.PresenceTTL = time.Duration(e.int("PRESENCE_TTL_SECONDS", 30, 1, 86400)) * time.Second
	c.RoomCloseOnHostLeave = e.bool("ROOM_CLOSE_ON_HOST_LEAVE", false)
	c.DisplayNameMin = e.int("USER_DISPLAY_NAME_MIN_LENGTH", 1, 1, 1000)
	c.DisplayNameMax = e.int("USER_DISPLAY_NAME_MAX_LENGTH", 32, 1, 1000)
	if c.DisplayNameMax < c.DisplayNameMin {
		e.errs = append(e.errs, errors.New("USER_DISPLAY_NAME_MAX_LENGTH must not be below USER_DISPLAY_NAME_MIN_LENGTH"))
	}
	c.ThrottleTTL = e.ms("THROTTLE_TTL_MS", 60000, 1, 86400000)
	c.ThrottleLimit = e.int("THROTTLE_LIMIT", 20, 0, maxInt)
	c.SocketEventRate = e.float("SOCKET_EVENT_RATE", 10)
	c.SocketEventBurst = e.int("SOCKET_EVENT_BURST", 20, 1, maxInt)
	c.RoomMaxSocketsPerUser = disabledAtZero(e.int("ROOM_MAX_SOCKETS_PER_USER", 5, 0, 100000))
	if c.SocketConnectRate = e.float("SOCKET_CONNECT_RATE", 50); c.SocketConnectRate < 0 {
		e.errs = append(e.errs, errors.New("SOCKET_CONNECT_RATE must not be negative (0 disables the limit)"))
	} else if c.SocketConnectRate == 0 {
		c.SocketConnectRate = -1
	}
	c.ShutdownTimeout = e.ms("SHUTDOWN_TIMEOUT_MS", 10000, 0, 3600000)
	c.SocketIOPingIntervalMS = e.int("SOCKETIO_PING_INTERVAL_MS", 25000, 100, 3600000)
	c.SocketIOPingTimeoutMS = e.int("SOCKETIO_PING_TIMEOUT_MS", 20000, 100, 3600000)
	c.SocketIOConnectTimeout = e.ms("SOCKETIO_CONNECT_TIMEOUT_MS", 45000, 100, 3600000)
	e.httpLimits(&c)
	e.dating(&c)
	e.chatAndModeration(&c)
	return c, errors.Join(e.errs...)
}

// origins reads the allowed CORS origins: "*" or a comma-separated list of
// scheme://host[:port]. In production the list must be given explicitly.
func (e *envReader) origins(name string, production bool) []string {
	v := e.str(name, "")
	if v == "" {
		if production {
			e.errs = append(e.errs, fmt.Errorf("%s is required in production: list the browser origins allowed to call the API (https://app.example,https://admin.example), or \"*\" to allow any", name))
		}
		return []string{"*"}
	}
	var list []string
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o != "*" && !isOrigin(o):
			e.errs = append(e.errs, fmt.Errorf("%s: %q is not an origin (scheme://host[:port], no path)", name, o))
		}
		list = append(list, o)
	}
	if len(list) == 0 {
		e.errs = append(e.errs, fmt.Errorf("%s lists no origin", name))
		return []string{"*"}
	}
	return list
}

// isOrigin reports whether o is a browser origin: scheme://host[:port].
func isOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// httpLimits reads the HTTP server's limits. The write timeout bounds every
// response, long-polling GETs included, which the server holds for up to a
// ping interval: it must be longer than the heartbeat (interval plus
// timeout), and defaults to that plus 10 s. WebSockets are not bounded by
// it (they leave the HTTP server once upgraded).
func (e *envReader) httpLimits(c *config) {
	heartbeat := c.SocketIOPingIntervalMS + c.SocketIOPingTimeoutMS
	c.HTTPReadTimeout = e.ms("HTTP_READ_TIMEOUT_MS", 10000, 1, 3600000)
	c.HTTPWriteTimeout = e.ms("HTTP_WRITE_TIMEOUT_MS", heartbeat+10000, 1, 7200000)
	if c.HTTPWriteTimeout <= time.Duration(heartbeat)*time.Millisecond {
		e.errs = append(e.errs, fmt.Errorf("HTTP_WRITE_TIMEOUT_MS must be above SOCKETIO_PING_INTERVAL_MS + SOCKETIO_PING_TIMEOUT_MS (%d), or long-polling responses are cut", heartbeat))
	}
	c.HTTPIdleTimeout = e.ms("HTTP_IDLE_TIMEOUT_MS", 60000, 1, 3600000)
	c.HTTPMaxHeaderBytes = e.int("HTTP_MAX_HEADER_BYTES", 16<<10, 1<<10, 1<<20)
}

// dating reads the queue, video session and opt-in settings. Agora's
// credentials are required in production; without them in development the
// whole loop runs and session:start carries null rtc and rtm.
func (e *envReader) dating(c *config) {
	c.QueueTick = e.ms("QUEUE_TICK_MS", 500, 50, 60000)
	c.QueueDisconnectGrace = time.Duration(e.int("QUEUE_DISCONNECT_GRACE_SECONDS", 10, 1, 86400)) * time.Second
	c.SessionDuration = time.Duration(e.int("SESSION_DURATION_SECONDS", 45, 1, 3600)) * time.Second
	c.OptinWindow = time.Duration(e.int("OPTIN_WINDOW_SECONDS", 60, 1, 86400)) * time.Second
	c.AgoraAppID = e.str("AGORA_APP_ID", "")
	c.AgoraAppCertificate = e.str("AGORA_APP_CERTIFICATE", "")
	c.AgoraTokenTTL = time.Duration(e.int("AGORA_TOKEN_TTL_SECONDS", 120, 10, 86400)) * time.Second
	switch {
	case (c.AgoraAppID == "") != (c.AgoraAppCertificate == ""):
		e.errs = append(e.errs, errors.New("AGORA_APP_ID and AGORA_APP_CERTIFICATE go together: set both, or neither outside production"))
	case c.AgoraAppID == "" && c.Production:
		e.errs = append(e.errs, errors.New("AGORA_APP_ID and AGORA_APP_CERTIFICATE are required in production"))
	}
}

// chatAndModeration reads the chat's rate limit, the moderation service
// (Hive), the ban policy and the operators' token.
func (e *envReader) chatAndModeration(c *config) {
	if c.ChatMessageRate = e.float("CHAT_MESSAGE_RATE", 5); c.ChatMessageRate <= 0 {
		e.errs = append(e.errs, errors.New("CHAT_MESSAGE_RATE must be above 0 (messages per second per user)"))
	}
	c.ChatMessageBurst = e.int("CHAT_MESSAGE_BURST", 20, 1, 100000)
	c.HiveStreamURL = e.str("HIVE_STREAM_URL", "")
	c.HiveScreenshotURL = e.str("HIVE_SCREENSHOT_URL", "")
	c.HiveAPIKey = e.str("HIVE_API_KEY", "")
	c.HiveWebhookSecret = e.str("HIVE_WEBHOOK_SECRET", "")
	for name, v := range map[string]string{"HIVE_STREAM_URL": c.HiveStreamURL, "HIVE_SCREENSHOT_URL": c.HiveScreenshotURL} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			e.errs = append(e.errs, fmt.Errorf("%s must be an absolute http(s) URL, not %q", name, v))
		}
	}
	switch {
	case c.HiveScreenshotURL != "" && c.HiveStreamURL == "":
		e.errs = append(e.errs, errors.New("HIVE_SCREENSHOT_URL is the fallback of HIVE_STREAM_URL: set HIVE_STREAM_URL too"))
	case c.HiveStreamURL != "" && c.HiveAPIKey == "":
		e.errs = append(e.errs, errors.New("HIVE_API_KEY is required with HIVE_STREAM_URL"))
	case c.HiveStreamURL != "" && c.AgoraAppID == "":
		e.errs = append(e.errs, errors.New("HIVE_STREAM_URL needs AGORA_APP_ID and AGORA_APP_CERTIFICATE: the moderation bot joins the call's Agora channel"))
	}
	c.ModerationBanThreshold = e.int("MODERATION_BAN_THRESHOLD", 3, 1, 1000)
	c.ModerationWindow = time.Duration(e.int("MODERATION_WINDOW_HOURS", 24, 1, 8760)) * time.Hour
	c.ModerationBanDuration = time.Duration(e.int("MODERATION_BAN_HOURS", 24, 1, 8760)) * time.Hour
	if c.AdminToken = e.str("ADMIN_TOKEN", ""); c.AdminToken != "" && len(c.AdminToken) < 16 {
		e.errs = append(e.errs, errors.New("ADMIN_TOKEN must be at least 16 bytes (or unset, which leaves the operator routes unmounted)"))
	}
}
