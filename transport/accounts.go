package transport

import (
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

// AccountsConfig configures AccountsModule.
type AccountsConfig struct {
	// Service serves the accounts. Required.
	Service *auth.Service
	// SecureCookies marks the refresh-token cookie Secure (HTTPS only).
	// Default: set when Service runs in production mode.
	SecureCookies bool
}

// AccountsModule serves /auth/... and /users/me. Its Service is also the
// Authenticator of the modules and namespaces that need a signed-in user
// (BillingConfig.Authenticator, Transport.UserNamespace).
func AccountsModule(cfg AccountsConfig) Module { return &accountsModule{cfg: cfg} }

type accountsModule struct {
	cfg AccountsConfig
	reg *Registrar
}

func (m *accountsModule) Register(r *Registrar) error {
	if m.cfg.Service == nil {
		return errors.New("transport: AccountsConfig.Service is required")
	}
	if m.cfg.Service.Production() {
		m.cfg.SecureCookies = true
	}
	m.reg = r
	withUser := func(h UserHandler) HandlerFunc { return r.WithUser(m.cfg.Service, h) }
	for _, rt := range []Route{
		{Method: "POST", Path: "/auth/signup-anonymous", Handler: m.signupAnonymous},
		{Method: "POST", Path: "/auth/refresh", Handler: m.refresh},
		{Method: "POST", Path: "/auth/logout", Handler: m.logout},
		{Method: "POST", Path: "/auth/logout-all", Handler: withUser(m.logoutAll)},
		{Method: "POST", Path: "/auth/verify-phone", Handler: withUser(m.verify(auth.ChannelPhone))},
		{Method: "POST", Path: "/auth/verify-email", Handler: withUser(m.verify(auth.ChannelEmail))},
		{Method: "POST", Path: "/auth/login/start", Handler: m.loginStart},
		{Method: "POST", Path: "/auth/login", Handler: m.login},
		{Method: "GET", Path: "/users/me", Handler: withUser(m.me)},
		{Method: "PATCH", Path: "/users/me", Handler: withUser(m.updateMe)},
		{Method: "DELETE", Path: "/users/me", Handler: withUser(m.deleteMe)},
	} {
		if err := r.Handle(rt); err != nil {
			return err
		}
	}
	return nil
}

// setRefreshCookie stores the session's refresh token in the cookie:
// HttpOnly, SameSite=Strict, scoped to the auth endpoints, Secure in
// production.
func (m *accountsModule) setRefreshCookie(w http.ResponseWriter, s auth.Session) {
	http.SetCookie(w, &http.Cookie{
		Name:     RefreshCookie,
		Value:    s.RefreshToken,
		Path:     m.reg.Prefix() + "/auth",
		Expires:  s.RefreshExpiresAt,
		MaxAge:   int(time.Until(s.RefreshExpiresAt).Seconds()),
		HttpOnly: true,
		Secure:   m.cfg.SecureCookies,
		SameSite: http.SameSiteStrictMode,
	})
}

func (m *accountsModule) clearRefreshCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     RefreshCookie,
		Value:    "",
		Path:     m.reg.Prefix() + "/auth",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   m.cfg.SecureCookies,
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

func (m *accountsModule) writeSession(w http.ResponseWriter, status int, s auth.Session, withUser bool) {
	m.setRefreshCookie(w, s)
	res := SessionResponse{AccessToken: s.AccessToken, AccessTokenExpiresAt: s.AccessExpiresAt}
	if withUser {
		res.User = &s.User
	}
	WriteJSON(w, status, res)
}

// POST /auth/signup-anonymous → 201 {user, accessToken} + refresh cookie
func (m *accountsModule) signupAnonymous(w http.ResponseWriter, r *http.Request) error {
	if err := DecodeBody(w, r, &struct{}{}); err != nil {
		return err
	}
	s, err := m.cfg.Service.SignupAnonymous(r.Context())
	if err != nil {
		return err
	}
	m.writeSession(w, http.StatusCreated, s, true)
	return nil
}

// POST /auth/refresh (cookie) → 200 {accessToken} + new refresh cookie
func (m *accountsModule) refresh(w http.ResponseWriter, r *http.Request) error {
	if err := DecodeBody(w, r, &struct{}{}); err != nil {
		return err
	}
	tok := refreshToken(r)
	if tok == "" {
		return auth.ErrRefreshMissing
	}
	s, err := m.cfg.Service.Refresh(r.Context(), tok)
	if err != nil {
		if rv.KindOf(err) == rv.KindUnauthenticated {
			m.clearRefreshCookie(w)
		}
		return err
	}
	m.writeSession(w, http.StatusOK, s, false)
	return nil
}

// POST /auth/logout (cookie) → 204, the family revoked and the cookie cleared
func (m *accountsModule) logout(w http.ResponseWriter, r *http.Request) error {
	if err := DecodeBody(w, r, &struct{}{}); err != nil {
		return err
	}
	if err := m.cfg.Service.Logout(r.Context(), refreshToken(r)); err != nil {
		return err
	}
	m.clearRefreshCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /auth/logout-all (bearer) → 204, every family revoked and every
// access token issued so far rejected
func (m *accountsModule) logoutAll(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := DecodeBody(w, r, &struct{}{}); err != nil {
		return err
	}
	if err := m.cfg.Service.LogoutAll(r.Context(), p.UserID); err != nil {
		return err
	}
	m.clearRefreshCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /auth/verify-phone {phone[, code]}, POST /auth/verify-email
// {email[, code]}: without code, send one (202); with it, link the
// identifier (200 {user}).
func (m *accountsModule) verify(ch auth.Channel) UserHandler {
	return func(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
		id, code, err := decodeIdentifier(w, r, ch)
		if err != nil {
			return err
		}
		if code == nil {
			if err := m.cfg.Service.StartVerification(r.Context(), p.UserID, ch, id, m.reg.ClientIP(r)); err != nil {
				return err
			}
			WriteJSON(w, http.StatusAccepted, map[string]string{"status": "code_sent"})
			return nil
		}
		u, err := m.cfg.Service.ConfirmVerification(r.Context(), p.UserID, ch, id, *code, m.reg.ClientIP(r))
		if err != nil {
			return err
		}
		WriteJSON(w, http.StatusOK, map[string]any{"user": u})
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
	if err := DecodeBody(w, r, &b); err != nil {
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
	if err := DecodeBody(w, r, &b); err != nil {
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
func (m *accountsModule) loginStart(w http.ResponseWriter, r *http.Request) error {
	ch, id, code, err := loginChannel(w, r)
	if err != nil {
		return err
	}
	if code != nil {
		return ErrInvalidBody.WithMessage(`"code" belongs to POST /auth/login`)
	}
	if err := m.cfg.Service.StartLogin(r.Context(), ch, id, m.reg.ClientIP(r)); err != nil {
		return err
	}
	WriteJSON(w, http.StatusAccepted, map[string]string{"status": "code_sent"})
	return nil
}

// POST /auth/login {phone|email, code} → 200 {user, accessToken} + refresh cookie
func (m *accountsModule) login(w http.ResponseWriter, r *http.Request) error {
	ch, id, code, err := loginChannel(w, r)
	if err != nil {
		return err
	}
	if code == nil {
		return ErrInvalidBody.WithMessage(`the body needs "code"`)
	}
	s, err := m.cfg.Service.Login(r.Context(), ch, id, *code, m.reg.ClientIP(r))
	if err != nil {
		return err
	}
	m.writeSession(w, http.StatusOK, s, true)
	return nil
}

// GET /users/me → 200 User (with phone and email: the owner sees them)
func (m *accountsModule) me(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	u, err := m.cfg.Service.Me(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, u)
	return nil
}

// PATCH /users/me ProfilePatch → 200 User
func (m *accountsModule) updateMe(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var patch auth.ProfilePatch
	if err := DecodeBody(w, r, &patch); err != nil {
		return err
	}
	u, err := m.cfg.Service.UpdateProfile(r.Context(), p.UserID, patch)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, u)
	return nil
}

// DELETE /users/me → 204, the account and every token gone
func (m *accountsModule) deleteMe(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if err := m.cfg.Service.DeleteAccount(r.Context(), p.UserID); err != nil && !errors.Is(err, auth.ErrUserNotFound) {
		return err
	}
	m.clearRefreshCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
