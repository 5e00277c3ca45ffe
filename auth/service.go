package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
)

// Defaults of Config.
const (
	DefaultAccessTTL                = 15 * time.Minute
	DefaultRefreshTTL               = 30 * 24 * time.Hour
	DefaultCodeTTL                  = 10 * time.Minute
	DefaultCodeMaxAttempts          = 5
	DefaultCodeMaxTotalAttempts     = 10
	DefaultSendLimitPerIdentifier   = 10
	DefaultSendLimitPerIdentifierIP = 3
	DefaultSendLimitPerIP           = 20
	DefaultSendWindow               = time.Hour
)

// MinProductionSecretLength is the shortest Config.Secret that New accepts
// when Config.Production is set (256 bits). Outside production the minimum
// is MinSecretLength.
const MinProductionSecretLength = 32

// refreshTokenBytes is the entropy of a refresh token: 256 bits.
const refreshTokenBytes = 32

// codeDigits is the length of verification codes.
const codeDigits = 6

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	// Store keeps users, identities, refresh tokens and codes. Required.
	Store Store
	// Cutoffs keeps the access-token cut-off of LogoutAll and
	// DeleteAccount. Required; use store/redis when several instances
	// share the users. When it fails, Authenticate fails open with the
	// cut-offs this instance knows (see the package documentation).
	Cutoffs CutoffStore
	// Limiter limits how many codes are sent per identifier and per IP
	// address (see SendLimitPerIdentifier). Default nil: no send limits;
	// the attempt limits of codes hold without it.
	Limiter Limiter
	// Sender delivers verification codes. Default nil: StartVerification
	// and StartLogin fail with ErrVerificationUnavailable.
	Sender CodeSender

	// Secret signs access tokens (HMAC-SHA256) and keys the hashes of
	// verification codes. Required: at least MinSecretLength bytes, and at
	// least MinProductionSecretLength bytes when Production is set.
	Secret []byte
	// Production refuses a short Secret and a LogSender. Transports also
	// read it (Service.Production) to mark cookies Secure.
	Production bool
	// Issuer is the "iss" claim of access tokens. Default DefaultIssuer.
	Issuer string

	// AccessTTL is the lifetime of access tokens. Default 15 minutes.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of each refresh token; a rotation issues
	// a token with a full RefreshTTL. Default 30 days.
	RefreshTTL time.Duration
	// RefreshGrace is how long after a rotation the rotated token may be
	// presented again and still get a fresh token of its family, instead
	// of being treated as reuse (two tabs refreshing at once). Default 0:
	// no grace; a few seconds at most is advised.
	RefreshGrace time.Duration
	// CodeTTL is the lifetime of verification codes. Default 10 minutes.
	CodeTTL time.Duration
	// CodeMaxAttempts is the number of wrong attempts one requester (IP
	// address, or IPv6 /64) may make on one code; after that the code is
	// refused to that requester even when right, and still works for
	// others. Default 5.
	CodeMaxAttempts int
	// CodeMaxTotalAttempts is the number of wrong attempts all requesters
	// together may make on one code; after that the code is refused to
	// everyone and a new one must be sent. It bounds brute force: a
	// guesser wins one code with a probability of at most
	// CodeMaxTotalAttempts in a million. Default 2 × CodeMaxAttempts; at
	// least CodeMaxAttempts.
	CodeMaxTotalAttempts int

	// SendLimitPerIdentifierIP is the number of codes one requester (IP
	// address, or IPv6 /64) may have sent to one identifier per
	// SendWindow. Default 3; it must be below SendLimitPerIdentifier, so
	// that one requester cannot spend an identifier's ceiling.
	SendLimitPerIdentifierIP int
	// SendLimitPerIdentifier is the ceiling of codes sent to one
	// identifier per SendWindow, whoever asks, against flooding a phone or
	// a mailbox. Default 10.
	SendLimitPerIdentifier int
	// SendLimitPerIP is the number of codes requested from one requester
	// (IP address, or IPv6 /64) per SendWindow, whatever the identifier.
	// Default 20.
	SendLimitPerIP int
	// SendWindow is the window of the send limits. Default 1 hour.
	SendWindow time.Duration

	// OnSignup, when set, runs after SignupAnonymous created an account,
	// for example to grant a welcome bonus in another feature. Its error is
	// logged, not returned: the account exists either way.
	OnSignup func(ctx context.Context, u User) error

	// Clock tells the time. Default rendezvous.SystemClock.
	Clock rv.Clock
	// Logger receives security events (refresh-token reuse) and failures
	// that do not fail the call (a CutoffStore that does not answer, an
	// OnSignup error). Default: silent.
	Logger *slog.Logger
}

// Service implements accounts and authentication: anonymous sign-up,
// access and refresh tokens, phone and email verification, sign-in with a
// one-time code, and the user's profile. It is safe for concurrent use,
// and any number of Services on any number of processes may share a Store
// and a CutoffStore.
type Service struct {
	cfg     Config
	parser  *jwt.Parser
	codeKey []byte

	stamps     stamper     // issue stamps and cut-offs, strictly increasing
	cutoffs    cutoffCache // the cut-offs this instance set or read
	cutoffWarn warnLimiter // rate-limits the warnings of a failing CutoffStore
}

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: Config.Store is required")
	}
	if cfg.Cutoffs == nil {
		return nil, errors.New("auth: Config.Cutoffs is required")
	}
	if len(cfg.Secret) < MinSecretLength {
		return nil, fmt.Errorf("auth: Config.Secret must be at least %d bytes", MinSecretLength)
	}
	if cfg.Production {
		if len(cfg.Secret) < MinProductionSecretLength {
			return nil, fmt.Errorf("auth: Config.Secret must be at least %d bytes in production", MinProductionSecretLength)
		}
		switch cfg.Sender.(type) {
		case LogSender, *LogSender:
			return nil, errors.New("auth: LogSender writes codes to the log and must not be used in production")
		}
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"AccessTTL", &cfg.AccessTTL, DefaultAccessTTL},
		{"RefreshTTL", &cfg.RefreshTTL, DefaultRefreshTTL},
		{"CodeTTL", &cfg.CodeTTL, DefaultCodeTTL},
		{"SendWindow", &cfg.SendWindow, DefaultSendWindow},
	} {
		switch {
		case *d.v < 0:
			return nil, fmt.Errorf("auth: Config.%s must not be negative", d.name)
		case *d.v == 0:
			*d.v = d.def
		case *d.v < time.Second:
			return nil, fmt.Errorf("auth: Config.%s must be at least one second", d.name)
		}
	}
	for _, n := range []struct {
		name string
		v    *int
		def  int
	}{
		{"CodeMaxAttempts", &cfg.CodeMaxAttempts, DefaultCodeMaxAttempts},
		{"CodeMaxTotalAttempts", &cfg.CodeMaxTotalAttempts, -1},
		{"SendLimitPerIdentifier", &cfg.SendLimitPerIdentifier, DefaultSendLimitPerIdentifier},
		{"SendLimitPerIdentifierIP", &cfg.SendLimitPerIdentifierIP, -1},
		{"SendLimitPerIP", &cfg.SendLimitPerIP, DefaultSendLimitPerIP},
	} {
		switch {
		case *n.v < 0:
			return nil, fmt.Errorf("auth: Config.%s must not be negative", n.name)
		case *n.v == 0:
			*n.v = n.def
		}
	}
	// The defaults that depend on other fields.
	if cfg.CodeMaxTotalAttempts == -1 {
		cfg.CodeMaxTotalAttempts = 2 * cfg.CodeMaxAttempts
	}
	if cfg.SendLimitPerIdentifierIP == -1 {
		cfg.SendLimitPerIdentifierIP = max(min(DefaultSendLimitPerIdentifierIP, cfg.SendLimitPerIdentifier-1), 1)
	}
	if cfg.CodeMaxTotalAttempts < cfg.CodeMaxAttempts {
		return nil, errors.New("auth: Config.CodeMaxTotalAttempts must be at least CodeMaxAttempts")
	}
	if cfg.SendLimitPerIdentifierIP >= cfg.SendLimitPerIdentifier {
		return nil, errors.New("auth: Config.SendLimitPerIdentifierIP must be below SendLimitPerIdentifier, or one address could spend an identifier's ceiling")
	}
	if cfg.RefreshGrace < 0 || cfg.RefreshGrace >= cfg.RefreshTTL {
		return nil, errors.New("auth: Config.RefreshGrace must be at least 0 and shorter than RefreshTTL")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Clock == nil {
		cfg.Clock = rv.SystemClock
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Secret = append([]byte(nil), cfg.Secret...)

	// The code-hashing key is derived from the secret, so that code hashes
	// and token signatures never share a key.
	mac := hmac.New(sha256.New, cfg.Secret)
	mac.Write([]byte("rendezvous/auth: verification code key"))
	return &Service{
		cfg:     cfg,
		parser:  newAccessParser(cfg.Issuer, cfg.Clock.Now),
		codeKey: mac.Sum(nil),
		stamps:  stamper{clock: cfg.Clock},
	}, nil
}

// AccessTTL returns the lifetime of access tokens.
func (s *Service) AccessTTL() time.Duration { return s.cfg.AccessTTL }

// RefreshTTL returns the lifetime of refresh tokens, for the refresh
// cookie's Max-Age.
func (s *Service) RefreshTTL() time.Duration { return s.cfg.RefreshTTL }

// Production reports whether Config.Production is set: transports mark the
// refresh cookie Secure then.
func (s *Service) Production() bool { return s.cfg.Production }

// Session is what sign-up, login and refresh return: the user, a new
// access token and a new refresh token. The refresh token travels in an
// httpOnly cookie; the rest in the response body.
type Session struct {
	User             User
	AccessToken      string
	AccessExpiresAt  time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
}

// now returns the current time in UTC, to the millisecond: the precision
// of every stored time and of access tokens' issue time.
func (s *Service) now() time.Time {
	return s.cfg.Clock.Now().UTC().Truncate(time.Millisecond)
}

// SignupAnonymous creates an account with an empty profile and no
// identifier, and signs it in.
func (s *Service) SignupAnonymous(ctx context.Context) (Session, error) {
	now := s.now()
	u := User{
		ID:        uuid.New(),
		Profile:   Profile{Interests: []string{}, PhotoURLs: []string{}},
		CreatedAt: now,
		UpdatedAt: now,
	}
	stamp := s.stamps.next()
	token, rec := s.newRefresh(u.ID, uuid.New(), now)
	if err := s.cfg.Store.CreateUser(ctx, u, rec); err != nil {
		return Session{}, err
	}
	if s.cfg.OnSignup != nil {
		// The account exists whatever the hook does: a failure is logged,
		// and the hook must be safe to run again for the same user.
		if err := s.cfg.OnSignup(ctx, u); err != nil {
			s.cfg.Logger.ErrorContext(ctx, "auth: OnSignup failed", "user", u.ID, "err", err)
		}
	}
	return s.session(u, token, rec, now, stamp)
}

// Refresh rotates refreshToken: the token is consumed and a new one of the
// same family is returned with a new access token. It returns
// ErrRefreshMissing for an empty token, ErrRefreshInvalid for an unknown
// one, ErrRefreshExpired, ErrTokenRevoked when the family was revoked
// (logout), and ErrRefreshReused when the token was already rotated: the
// whole family is then revoked, its newest token included. Within
// Config.RefreshGrace of its rotation, the token just rotated gets another
// fresh token instead.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (Session, error) {
	presented, err := parseRefresh(refreshToken)
	if err != nil {
		return Session{}, err
	}
	now := s.now()
	// The access token's stamp is taken before the rotation: a rotation
	// that succeeds precedes any revocation of the family, so a LogoutAll
	// that revoked it takes its cut-off after this stamp.
	stamp := s.stamps.next()
	token, next := s.newRefresh("", "", now)
	rec, err := s.cfg.Store.RotateRefreshToken(ctx, Rotation{
		Presented: presented,
		Next:      next.Hash,
		Now:       now,
		ExpiresAt: next.ExpiresAt,
		Grace:     s.cfg.RefreshGrace,
	})
	if err != nil {
		if errors.Is(err, ErrRefreshReused) {
			s.cfg.Logger.WarnContext(ctx, "rendezvous: refresh token reused; its family is revoked",
				slog.String("userId", rec.UserID), slog.String("familyId", rec.FamilyID))
		}
		return Session{}, err
	}
	u, err := s.cfg.Store.User(ctx, rec.UserID)
	if errors.Is(err, ErrUserNotFound) {
		return Session{}, ErrRefreshInvalid
	}
	if err != nil {
		return Session{}, err
	}
	return s.session(u, token, rec, now, stamp)
}

// Logout revokes the family of refreshToken: it and every token of its
// lineage stop working. An empty, malformed or unknown token is no error,
// so logging out twice succeeds. Access tokens stay valid until they
// expire; LogoutAll cuts them off.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	hash, err := parseRefresh(refreshToken)
	if err != nil {
		return nil
	}
	return s.cfg.Store.RevokeTokenFamily(ctx, hash, s.now())
}

// LogoutAll revokes every refresh family of the user and rejects, from now
// on, every access token issued before the call (ErrTokenRevoked); tokens
// issued after it returns are accepted. When the CutoffStore fails, the
// families are revoked and the cut-off holds on this instance, and the
// store's error is returned (see the package documentation).
func (s *Service) LogoutAll(ctx context.Context, userID string) error {
	if err := s.cfg.Store.RevokeUserFamilies(ctx, userID, s.now()); err != nil {
		return err
	}
	// The cut-off is taken after the revocation, so an access token from a
	// rotation that raced it is stamped before the cut-off.
	return s.cutOff(ctx, userID)
}

// StartVerification sends a one-time code to identifier (a phone number
// for ChannelPhone, an email address for ChannelEmail) for the signed-in
// user, who confirms it with ConfirmVerification. A new code replaces any
// pending one. It fails with ErrInvalidChannel, ErrInvalidPhone,
// ErrInvalidEmail, ErrUserNotFound, a *RateLimitError
// (ErrSendRateLimited) when ip, ip for this identifier, or the identifier
// has had too many codes (see "Sign-in limits" in the package
// documentation), and ErrVerificationUnavailable when no sender is
// configured or sending failed. ip is the requester's address (IPv4 or
// IPv6, which counts as its /64); it may be "" when unknown: only the
// identifier's ceiling applies then.
//
// An identifier verified by another account is not refused here, only at
// confirmation, so that StartVerification does not tell who is
// registered.
func (s *Service) StartVerification(ctx context.Context, userID string, ch Channel, identifier, ip string) error {
	id, err := NormalizeIdentifier(ch, identifier)
	if err != nil {
		return err
	}
	if s.cfg.Sender == nil {
		return ErrVerificationUnavailable
	}
	if _, err := s.cfg.Store.User(ctx, userID); err != nil {
		return err
	}
	if err := s.allowSend(ctx, ch, id, requesterOf(ip)); err != nil {
		return err
	}
	code, err := s.putCode(ctx, CodeKey{Purpose: PurposeVerify, Channel: ch, Identifier: id, UserID: userID})
	if err != nil {
		return err
	}
	return s.send(ctx, ch, id, code)
}

// ConfirmVerification checks code against the code sent by
// StartVerification and links the identifier to the user, replacing the
// user's earlier identifier of that channel. It returns the updated user,
// or ErrCodeInvalid (wrong code, or none pending), ErrCodeExpired,
// ErrCodeExhausted (too many wrong attempts from ip, or on the code from
// everyone: request a new code), or ErrIdentityTaken when another account
// verified the identifier. ip is the requester's address, as for
// StartVerification: wrong attempts are counted per requester and per
// code.
func (s *Service) ConfirmVerification(ctx context.Context, userID string, ch Channel, identifier, code, ip string) (User, error) {
	id, err := NormalizeIdentifier(ch, identifier)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	if err := s.checkCode(ctx, CodeKey{Purpose: PurposeVerify, Channel: ch, Identifier: id, UserID: userID}, code, requesterOf(ip), now); err != nil {
		return User{}, err
	}
	u, err := s.cfg.Store.LinkIdentity(ctx, userID, ch, id, now)
	if err != nil {
		return User{}, err
	}
	return normalizeUser(u), nil
}

// StartLogin sends a sign-in code to identifier when an account has
// verified it. It answers the same whether or not such an account exists,
// so that it does not tell who is registered: when none does, nothing is
// sent, but a code that was never sent is stored all the same (Login then
// fails exactly as it would for a real account), and the send limits
// count the request. Errors are those of StartVerification, bar
// ErrUserNotFound.
//
// The response time still differs by the time the sender takes; a sender
// that queues its messages keeps that difference small.
func (s *Service) StartLogin(ctx context.Context, ch Channel, identifier, ip string) error {
	id, err := NormalizeIdentifier(ch, identifier)
	if err != nil {
		return err
	}
	if s.cfg.Sender == nil {
		return ErrVerificationUnavailable
	}
	if err := s.allowSend(ctx, ch, id, requesterOf(ip)); err != nil {
		return err
	}
	exists := true
	if _, err := s.cfg.Store.UserByIdentity(ctx, ch, id); errors.Is(err, ErrUserNotFound) {
		exists = false
	} else if err != nil {
		return err
	}
	code, err := s.putCode(ctx, CodeKey{Purpose: PurposeLogin, Channel: ch, Identifier: id})
	if err != nil || !exists {
		return err
	}
	return s.send(ctx, ch, id, code)
}

// Login checks code against the code sent by StartLogin and signs in the
// account that verified identifier, with a new refresh family. A wrong
// code is ErrCodeInvalid whether or not the identifier belongs to an
// account; ErrCodeExpired and ErrCodeExhausted are as for
// ConfirmVerification, and ip too: a stranger's wrong guesses lock only the
// stranger's address out of the code.
func (s *Service) Login(ctx context.Context, ch Channel, identifier, code, ip string) (Session, error) {
	id, err := NormalizeIdentifier(ch, identifier)
	if err != nil {
		return Session{}, err
	}
	now := s.now()
	if err := s.checkCode(ctx, CodeKey{Purpose: PurposeLogin, Channel: ch, Identifier: id}, code, requesterOf(ip), now); err != nil {
		return Session{}, err
	}
	u, err := s.cfg.Store.UserByIdentity(ctx, ch, id)
	if errors.Is(err, ErrUserNotFound) {
		// Only a code that was never sent can match here.
		return Session{}, ErrCodeInvalid
	}
	if err != nil {
		return Session{}, err
	}
	// Reading the user's cut-off makes this instance's stamps pass it, so
	// the new session works even if this instance's clock runs a little
	// behind the one that ran the LogoutAll. The stamp is taken before the
	// family exists: a LogoutAll that revokes the family cuts it off.
	if _, err := s.cutoff(ctx, u.ID); err != nil {
		return Session{}, err
	}
	stamp := s.stamps.next()
	token, rec := s.newRefresh(u.ID, uuid.New(), now)
	if err := s.cfg.Store.CreateRefreshToken(ctx, rec); err != nil {
		if errors.Is(err, ErrUserNotFound) {
			return Session{}, ErrCodeInvalid
		}
		return Session{}, err
	}
	return s.session(u, token, rec, now, stamp)
}

// Me returns the user, phone and email included, or ErrUserNotFound.
func (s *Service) Me(ctx context.Context, userID string) (User, error) {
	u, err := s.cfg.Store.User(ctx, userID)
	if err != nil {
		return User{}, err
	}
	return normalizeUser(u), nil
}

// UpdateProfile applies the non-nil fields of patch once each is checked
// (see ProfilePatch.Normalize) and returns the updated user. A field that
// breaks its rule yields ErrInvalidProfile naming the field, and nothing
// is changed.
func (s *Service) UpdateProfile(ctx context.Context, userID string, patch ProfilePatch) (User, error) {
	p, err := patch.Normalize()
	if err != nil {
		return User{}, err
	}
	u, err := s.cfg.Store.UpdateProfile(ctx, userID, p, s.now())
	if err != nil {
		return User{}, err
	}
	return normalizeUser(u), nil
}

// DeleteAccount deletes the user, its identifiers (free to be verified by
// another account) and every refresh token, and rejects from now on every
// access token issued before (ErrTokenRevoked). Deleting an account that
// no longer exists returns ErrUserNotFound but still sets the cut-off, so
// that a retry after a failure completes the deletion.
func (s *Service) DeleteAccount(ctx context.Context, userID string) error {
	err := s.cfg.Store.DeleteUser(ctx, userID)
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return err
	}
	if cerr := s.cutOff(ctx, userID); cerr != nil {
		return cerr
	}
	return err
}

// Authenticate verifies an access token: the algorithm (HS256 only, so
// "alg":"none" and algorithm-confusion tokens fail), the signature, the
// issuer, the audience, the expiry, the type (room and refresh tokens
// fail), and that it was not issued before the user's last LogoutAll or
// DeleteAccount. It returns ErrTokenMissing, ErrTokenExpired,
// ErrTokenRevoked or ErrTokenInvalid.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (Principal, error) {
	p, err := s.verifyAccess(accessToken)
	if err != nil {
		return Principal{}, err
	}
	cutoff, err := s.cutoff(ctx, p.UserID)
	if err != nil {
		return Principal{}, err
	}
	if cutoff != 0 && p.IssuedAt.UnixMicro() <= cutoff {
		return Principal{}, ErrTokenRevoked
	}
	return p, nil
}

// PurgeExpired deletes the expired refresh tokens and verification codes,
// and the families left empty. Call it periodically (hourly, say) to keep
// the store small; expiry is enforced without it.
func (s *Service) PurgeExpired(ctx context.Context) error {
	return s.cfg.Store.DeleteExpired(ctx, s.now())
}

// session returns the Session of u with refresh token (stored as rec) and
// a new access token issued at now with the given stamp.
func (s *Service) session(u User, token string, rec RefreshToken, now time.Time, stamp int64) (Session, error) {
	access, exp, err := s.issueAccess(u.ID, now, stamp)
	if err != nil {
		return Session{}, fmt.Errorf("auth: sign access token: %w", err)
	}
	return Session{
		User:             normalizeUser(u),
		AccessToken:      access,
		AccessExpiresAt:  exp,
		RefreshToken:     token,
		RefreshExpiresAt: rec.ExpiresAt,
	}, nil
}

// newRefresh returns a new refresh token and its record.
func (s *Service) newRefresh(userID, familyID string, now time.Time) (string, RefreshToken) {
	var b [refreshTokenBytes]byte
	mustRead(b[:])
	sum := sha256.Sum256(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:]), RefreshToken{
		Hash:      sum[:],
		UserID:    userID,
		FamilyID:  familyID,
		IssuedAt:  now,
		ExpiresAt: now.Add(s.cfg.RefreshTTL),
	}
}

// parseRefresh returns the hash of a refresh token.
func parseRefresh(token string) ([]byte, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, ErrRefreshMissing
	}
	if len(token) != base64.RawURLEncoding.EncodedLen(refreshTokenBytes) {
		return nil, ErrRefreshInvalid
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != refreshTokenBytes {
		return nil, ErrRefreshInvalid
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// allowSend counts one code sent to identifier id of channel ch and
// requested by requester against the send limits, in this order: the
// requester's own limit, the requester's limit for this identifier, and
// the identifier's ceiling. A request refused by one limit is not counted
// by the next, so a requester who spends its own limits does not spend the
// identifier's ceiling.
func (s *Service) allowSend(ctx context.Context, ch Channel, id, requester string) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	type limit struct {
		key string
		n   int
	}
	limits := []limit{
		{"auth:send-ip:" + requester, s.cfg.SendLimitPerIP},
		{"auth:send-id-ip:" + string(ch) + ":" + id + ":" + requester, s.cfg.SendLimitPerIdentifierIP},
		{"auth:send:" + string(ch) + ":" + id, s.cfg.SendLimitPerIdentifier},
	}
	if requester == "" {
		// Unknown requesters are not one requester for the per-IP limit:
		// only the identifier is limited then.
		limits = limits[2:]
	}
	for _, l := range limits {
		ok, retry, err := s.cfg.Limiter.Allow(ctx, l.key, l.n, s.cfg.SendWindow)
		if err != nil {
			return fmt.Errorf("auth: send limit: %w", err)
		}
		if !ok {
			return &RateLimitError{Err: ErrSendRateLimited, After: retry}
		}
	}
	return nil
}

// putCode stores a new code for key and returns it.
func (s *Service) putCode(ctx context.Context, key CodeKey) (string, error) {
	code := newCode()
	now := s.now()
	err := s.cfg.Store.PutCode(ctx, VerificationCode{
		Key:       key,
		Hash:      s.hashCode(key, code),
		CreatedAt: now,
		ExpiresAt: now.Add(s.cfg.CodeTTL),
	})
	return code, err
}

func (s *Service) checkCode(ctx context.Context, key CodeKey, code, requester string, now time.Time) error {
	return s.cfg.Store.CheckCode(ctx, CodeCheck{
		Key:              key,
		Hash:             s.hashCode(key, strings.TrimSpace(code)),
		Now:              now,
		Requester:        requester,
		MaxAttempts:      s.cfg.CodeMaxAttempts,
		MaxTotalAttempts: s.cfg.CodeMaxTotalAttempts,
	})
}

func (s *Service) send(ctx context.Context, ch Channel, to, code string) error {
	if err := s.cfg.Sender.SendCode(ctx, ch, to, code); err != nil {
		return ErrVerificationUnavailable.Wrap(err)
	}
	return nil
}

// hashCode returns the HMAC-SHA256 of code bound to key, so that a stored
// hash neither reveals its code without the secret nor matches under
// another key.
func (s *Service) hashCode(key CodeKey, code string) []byte {
	mac := hmac.New(sha256.New, s.codeKey)
	for _, part := range []string{string(key.Purpose), string(key.Channel), key.Identifier, key.UserID, code} {
		mac.Write([]byte(part))
		mac.Write([]byte{0})
	}
	return mac.Sum(nil)
}

// newCode returns a uniformly random code of codeDigits decimal digits.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%0*d", codeDigits, n.Int64())
}

func mustRead(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
}

// normalizeUser makes the lists of u non-nil.
func normalizeUser(u User) User {
	u.Interests = nonNil(u.Interests)
	u.PhotoURLs = nonNil(u.PhotoURLs)
	return u
}
