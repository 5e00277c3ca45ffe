package agora

import (
	"context"
	"crypto/rand"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/session"
)

// MaxTTL is the longest lifetime of the issued credentials, the longest
// validity Agora documents for a token and its privileges.
const MaxTTL = 24 * time.Hour

// MaxNameLength is the longest channel name and RTM user id Agora accepts,
// in bytes.
const MaxNameLength = 64

// Config configures an Issuer.
type Config struct {
	// AppID is the App ID of the Agora project: 32 hexadecimal
	// characters. Required.
	AppID string
	// AppCertificate is the project's primary App Certificate: 32
	// hexadecimal characters. Required; it signs the tokens and never
	// leaves the server.
	AppCertificate string
	// Now tells the issue time of a TokenRequest without IssuedAt.
	// Default time.Now.
	Now func() time.Time
	// Rand is the random source of the tokens' salts. Default
	// crypto/rand.Reader; another reader is used by one call at a time.
	Rand io.Reader
}

// Issuer issues Agora AccessToken2 credentials; it implements
// session.VideoTokenIssuer and is safe for concurrent use.
type Issuer struct {
	appID string
	cert  string
	now   func() time.Time
	// rand is nil for crypto/rand.Reader, which needs no lock.
	rand   io.Reader
	randMu sync.Mutex
}

var _ session.VideoTokenIssuer = (*Issuer)(nil)

// New returns an Issuer, or ErrInvalidConfig when the App ID or the App
// Certificate is not 32 hexadecimal characters.
func New(cfg Config) (*Issuer, error) {
	if !ValidKey(cfg.AppID) {
		return nil, ErrInvalidConfig.WithMessage("the Agora App ID must be 32 hexadecimal characters (got %d characters%s)", len(cfg.AppID), hexHint(cfg.AppID))
	}
	if !ValidKey(cfg.AppCertificate) {
		return nil, ErrInvalidConfig.WithMessage("the Agora App Certificate must be 32 hexadecimal characters (got %d characters%s)", len(cfg.AppCertificate), hexHint(cfg.AppCertificate))
	}
	is := &Issuer{appID: cfg.AppID, cert: cfg.AppCertificate, now: cfg.Now, rand: cfg.Rand}
	if is.now == nil {
		is.now = time.Now
	}
	if is.rand == rand.Reader {
		is.rand = nil
	}
	return is, nil
}

// hexHint tells, without showing the value, that a 32-character key has a
// character that is not hexadecimal.
func hexHint(s string) string {
	if len(s) == 32 {
		return ", not all hexadecimal"
	}
	return ""
}

// AppID returns the App ID the credentials carry.
func (is *Issuer) AppID() string { return is.appID }

// IssueVideoTokens issues the credentials of one participant: an RTC token
// of the publisher role for req.RTCUID in req.Channel and an RTM token for
// req.RTMUserID, each with its own random salt, issued at req.IssuedAt
// (Config.Now when zero, in whole seconds) and expiring, with their
// privileges, req.TTL later (whole seconds). A request Agora would refuse
// fails with ErrInvalidTokenRequest: an empty channel or RTM user id, one
// longer than MaxNameLength bytes or with a character outside Agora's set
// (ASCII letters and digits, space and !#$%&()+-:;<=.>?@[]^_{}|~,), a user
// id that starts with a space, uid 0, a TTL under 1 s or over MaxTTL, an
// issue time outside the uint32 Unix seconds.
func (is *Issuer) IssueVideoTokens(ctx context.Context, req session.TokenRequest) (session.VideoCredentials, error) {
	if err := ctx.Err(); err != nil {
		return session.VideoCredentials{}, rv.AsError(err)
	}
	issued := req.IssuedAt
	if issued.IsZero() {
		issued = is.now()
	}
	if err := validate(req, issued); err != nil {
		return session.VideoCredentials{}, err
	}
	issueTs := uint32(issued.Unix())
	ttl := uint32(req.TTL / time.Second)

	rtcSalt, err := is.salt()
	if err != nil {
		return session.VideoCredentials{}, err
	}
	rtmSalt, err := is.salt()
	if err != nil {
		return session.VideoCredentials{}, err
	}
	rtc := AccessToken{
		AppID: is.appID, IssueTs: issueTs, Expire: ttl, Salt: rtcSalt,
		Services: []Service{NewRTCService(req.Channel, req.RTCUID, RolePublisher, ttl)},
	}
	rtcToken, err := rtc.Build(is.cert)
	if err != nil {
		return session.VideoCredentials{}, err
	}
	rtm := AccessToken{
		AppID: is.appID, IssueTs: issueTs, Expire: ttl, Salt: rtmSalt,
		Services: []Service{NewRTMService(req.RTMUserID, ttl)},
	}
	rtmToken, err := rtm.Build(is.cert)
	if err != nil {
		return session.VideoCredentials{}, err
	}
	return session.VideoCredentials{
		RTC: &session.RTCCredentials{AppID: is.appID, Token: rtcToken, UID: req.RTCUID},
		RTM: &session.RTMCredentials{Token: rtmToken, UserID: req.RTMUserID},
	}, nil
}

func (is *Issuer) salt() (uint32, error) {
	if is.rand == nil {
		return NewSalt(rand.Reader)
	}
	is.randMu.Lock()
	defer is.randMu.Unlock()
	return NewSalt(is.rand)
}

// validate checks req against the rules of IssueVideoTokens.
func validate(req session.TokenRequest, issued time.Time) error {
	if msg := checkName(req.Channel, "the channel name"); msg != "" {
		return ErrInvalidTokenRequest.WithMessage("%s", msg)
	}
	if req.RTCUID == 0 {
		return ErrInvalidTokenRequest.WithMessage("the RTC uid must not be 0")
	}
	if msg := checkName(req.RTMUserID, "the RTM user id"); msg != "" {
		return ErrInvalidTokenRequest.WithMessage("%s", msg)
	}
	if strings.HasPrefix(req.RTMUserID, " ") {
		return ErrInvalidTokenRequest.WithMessage("the RTM user id must not start with a space")
	}
	if req.TTL < time.Second || req.TTL > MaxTTL {
		return ErrInvalidTokenRequest.WithMessage("the token TTL must be from 1 s to %s (got %s)", MaxTTL, req.TTL)
	}
	if s := issued.Unix(); s < 0 || s > math.MaxUint32 {
		return ErrInvalidTokenRequest.WithMessage("the issue time %s is outside the token's range", issued.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkName returns why s is not a channel name or RTM user id Agora
// accepts, or "".
func checkName(s, what string) string {
	switch {
	case s == "":
		return what + " must not be empty"
	case len(s) > MaxNameLength:
		return what + " must be at most 64 bytes long"
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return what + " may hold only ASCII letters and digits, space and !#$%&()+-:;<=.>?@[]^_{}|~,"
		}
	}
	return ""
}

// nameChar reports whether c may appear in a channel name or RTM user id.
func nameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte(" !#$%&()+-:;<=.>?@[]^_{}|~,", c) >= 0
}
