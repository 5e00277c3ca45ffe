package transport

import (
	"context"
	"errors"
	"net/http"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/auth"
)

// RefreshCookie is the name of the cookie that carries the refresh token.
const RefreshCookie = "refresh_token"

// SessionResponse is the body of sign-up, login and refresh.
type SessionResponse struct {
	User                 *auth.User `json:"user,omitempty"`
	AccessToken          string     `json:"accessToken"`
	AccessTokenExpiresAt time.Time  `json:"accessTokenExpiresAt"`
}

type principalKey struct{}

// PrincipalFrom returns the authenticated user of a request that passed
// Authenticated, or of a socket connected through UserNamespace.
func PrincipalFrom(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}

// Authenticated is the HTTP middleware of the dating product's endpoints:
// it requires a valid access token in "Authorization: Bearer" and puts the
// auth.Principal in the request context (PrincipalFrom). Failures are 401
// with TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED or TOKEN_REVOKED.
func (t *Transport) Authenticated(next http.Handler) http.Handler {
	return t.handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := t.authenticate(r.Context(), bearer(r))
		if err != nil {
			return err
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
		return nil
	})
}

func (t *Transport) authenticate(ctx context.Context, token string) (auth.Principal, error) {
	if token == "" {
		return auth.Principal{}, auth.ErrTokenMissing
	}
	return t.cfg.Accounts.Authenticate(ctx, token)
}

// userHandler is a handler of an authenticated route.
type userHandler func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

func (t *Transport) withUser(h userHandler) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := t.authenticate(r.Context(), bearer(r))
		if err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), p)
	}
}

func (t *Transport) accountRoutes() []route {
	return []route{
		{method: "POST", path: "/auth/signup-anonymous", h: t.signupAnonymous},
		{method: "POST", path: "/auth/refresh", h: t.refresh},
		{method: "POST", path: "/auth/logout", h: t.logout},
		{method: "POST", path: "/auth/logout-all", h: t.withUser(t.logoutAll)},
		{method: "POST", path: "/auth/verify-phone", h: t.withUser(t.verify(auth.ChannelPhone))},
		{method: "POST", path: "/auth/verify-email", h: t.withUser(t.verify(auth.ChannelEmail))},
		{method: "POST", path: "/auth/login/start", h: t.loginStart},
		{method: "POST", path: "/auth/login", h: t.login},
		{method: "GET", path: "/users/me", h: t.withUser(t.me)},
		{method: "PATCH", path: "/users/me", h: t.withUser(t.updateMe)},
		{method: "DELETE", path: "/users/me", h: t.withUser(t.deleteMe)},
	}
}

// setRefreshCookie stores the session's refresh token in the cookie:
// HttpOnly, SameSite=Strict, scoped to the auth endpoints, Secure in
// production.
func (t *Transport) setRefreshCookie(w http.ResponseWriter, s auth.Session) {
	http.SetCookie(w, &http.Cookie{
		Name:     RefreshCookie,
		Value:    s.RefreshToken,
		Path:     t.cfg.Prefix + "/auth",
		Expires:  s.RefreshExpiresAt,
		MaxAge:   int(time.Until(s.RefreshExpiresAt).Seconds()),
		HttpOnly: true,
		Secure:   t.cfg.SecureCookies,
		SameSite: http.SameSiteStrictMode,
	})
}

func (t *Transport) clearRefreshCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     RefreshCookie,
		Value:    "",
		Path:     t.cfg.Prefix + "/auth",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   t.cfg.SecureCookies,
		SameSite: http.SameSiteStrictMode,
	})
}

func refreshToken(r *http.Request) string {
	c, err := r.Cookie(RefreshCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

func (t *Transport) writeSession(w http.ResponseWriter, status int, s auth.Session, withUser bool) {
	t.setRefreshCookie(w, s)
	res := SessionResponse{AccessToken: s.AccessToken, AccessTokenExpiresAt: s.AccessExpiresAt}
	if withUser {
		res.User = &s.User
	}
	writeJSON(w, status, res)
}

// POST /auth/signup-anonymous → 201 {user, accessToken} + refresh cookie
func (t *Transport) signupAnonymous(w http.ResponseWriter, r *http.Request) error {
	if err := decodeBody(w, r, &struct{}{}); err != nil {
		return err
	}
	s, err := t.cfg.Accounts.SignupAnonymous(r.Context())
	if err != nil {
		return err
	}
	t.writeSession(w, http.StatusCreated, s, true)
	return nil
}

// POST /auth/refresh (cookie) → 200 {accessToken} + new refresh cookie
func (t *Transport) refresh(w http.ResponseWriter, r *http.Request) error {
	if err := decodeBody(w, r, &struct{}{}); err != nil {
		return err
	}
	tok := refreshToken(r)
	if tok == "" {
		return auth.ErrRefreshMissing
	}
	s, err := t.cfg.Accounts.Refresh(r.Context(), tok)
	if err != nil {
		if rv.KindOf(err) == rv.KindUnauthenticated {
			t.clearRefreshCookie(w)
		}
		return err
	}
	t.writeSession(w, http.StatusOK, s, false)
	return nil
}

// POST /auth/logout (cookie) → 204, the family revoked and the cookie cleared
func (t *Transport) logout(w http.ResponseWriter, r *http.Request) error {
	if err := decodeBody(w, r, &struct{}{}); err != nil {
		return err
	}
	if err := t.cfg.Accounts.Logout(r.Context(), refreshToken(r)); err != nil {
		return err
	}
	t.clearRefreshCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /auth/logout-all (bearer) → 204, every family revoked and every
// access token issued so far rejected
func (t *Transport) logoutAll(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := decodeBody(w, r, &struct{}{}); err != nil {
		return err
	}
	if err := t.cfg.Accounts.LogoutAll(r.Context(), p.UserID); err != nil {
		return err
	}
	t.clearRefreshCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /auth/verify-phone {phone[, code]}, POST /auth/verify-email
// {email[, code]}: without code, send one (202); with it, link the
// identifier (200 {user}).
func (t *Transport) verify(ch auth.Channel) userHandler {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		id, code, err := decodeIdentifier(w, r, ch)
		if err != nil {
			return err
		}
		if code == nil {
			if err := t.cfg.Accounts.StartVerification(r.Context(), p.UserID, ch, id, t.clientIP(r)); err != nil {
				return err
			}
			writeJSON(w, http.StatusAccepted, map[string]string{"status": "code_sent"})
			return nil
		}
		u, err := t.cfg.Accounts.ConfirmVerification(r.Context(), p.UserID, ch, id, *code, t.clientIP(r))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"user": u})
		return nil
	}
}

// identifierBody is the body of the verification and login endpoints:
// exactly one of phone and email (the one the endpoint expects, when it
// expects one), and a code where the step needs it.
type identifierBody struct {
	Phone *string `json:"phone"`
	Email *string `json:"email"`
	Code  *string `json:"code"`
}

// decodeIdentifier reads an identifierBody. ch is the channel the endpoint
// requires, or "" when either is accepted.
func decodeIdentifier(w http.ResponseWriter, r *http.Request, ch auth.Channel) (string, *string, error) {
	var b identifierBody
	if err := decodeBody(w, r, &b); err != nil {
		return "", nil, err
	}
	switch {
	case ch == auth.ChannelPhone && (b.Phone == nil || b.Email != nil):
		return "", nil, ErrInvalidBody.WithMessage(`the body needs "phone" (and "code" to confirm)`)
	case ch == auth.ChannelEmail && (b.Email == nil || b.Phone != nil):
		return "", nil, ErrInvalidBody.WithMessage(`the body needs "email" (and "code" to confirm)`)
	case b.Phone != nil:
		return *b.Phone, b.Code, nil
	}
	return *b.Email, b.Code, nil
}

// loginChannel reads a login body: exactly one of phone and email.
func loginChannel(w http.ResponseWriter, r *http.Request) (auth.Channel, string, *string, error) {
	var b identifierBody
	if err := decodeBody(w, r, &b); err != nil {
		return "", "", nil, err
	}
	switch {
	case b.Phone != nil && b.Email == nil:
		return auth.ChannelPhone, *b.Phone, b.Code, nil
	case b.Email != nil && b.Phone == nil:
		return auth.ChannelEmail, *b.Email, b.Code, nil
	}
	return "", "", nil, ErrInvalidBody.WithMessage(`the body needs exactly one of "phone" and "email"`)
}

// POST /auth/login/start {phone|email} → 202 whether or not an account has it
func (t *Transport) loginStart(w http.ResponseWriter, r *http.Request) error {
	ch, id, code, err := loginChannel(w, r)
	if err != nil {
		return err
	}
	if code != nil {
		return ErrInvalidBody.WithMessage(`"code" belongs to POST /auth/login`)
	}
	if err := t.cfg.Accounts.StartLogin(r.Context(), ch, id, t.clientIP(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "code_sent"})
	return nil
}

// POST /auth/login {phone|email, code} → 200 {user, accessToken} + refresh cookie
func (t *Transport) login(w http.ResponseWriter, r *http.Request) error {
	ch, id, code, err := loginChannel(w, r)
	if err != nil {
		return err
	}
	if code == nil {
		return ErrInvalidBody.WithMessage(`the body needs "code"`)
	}
	s, err := t.cfg.Accounts.Login(r.Context(), ch, id, *code, t.clientIP(r))
	if err != nil {
		return err
	}
	t.writeSession(w, http.StatusOK, s, true)
	return nil
}

// GET /users/me → 200 User (with phone and email: the owner sees them)
func (t *Transport) me(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	u, err := t.cfg.Accounts.Me(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// PATCH /users/me ProfilePatch → 200 User
func (t *Transport) updateMe(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var patch auth.ProfilePatch
	if err := decodeBody(w, r, &patch); err != nil {
		return err
	}
	u, err := t.cfg.Accounts.UpdateProfile(r.Context(), p.UserID, patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// DELETE /users/me → 204, the account and every token gone
func (t *Transport) deleteMe(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := t.cfg.Accounts.DeleteAccount(r.Context(), p.UserID); err != nil && !errors.Is(err, auth.ErrUserNotFound) {
		return err
	}
	t.clearRefreshCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
