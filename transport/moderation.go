package transport

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"math"
	"net/http"
	"time"

	rv "github.com/rendezvous-go/rendezvous"
	"github.com/rendezvous-go/rendezvous/internal/uuid"
	"github.com/rendezvous-go/rendezvous/moderation"
)

// ErrAdminTokenInvalid: an operator route's "Authorization: Bearer" is
// missing or is not ModerationConfig.AdminToken.
var ErrAdminTokenInvalid = rv.E(rv.KindUnauthenticated, "ADMIN_TOKEN_INVALID", "the admin token is missing or wrong")

// Limits of the moderation operator routes.
const (
	// MaxBanHours is the longest ban POST /moderation/bans/{userId} gives.
	MaxBanHours = 8760
	// MaxModerationEventsLimit is the largest limit of GET
	// /moderation/events.
	MaxModerationEventsLimit = 100
)

// ModerationService is what the moderation module calls: the methods of
// the moderation service behind the webhook and the operator routes.
type ModerationService interface {
	// HandleWebhook verifies and takes one webhook delivery of the
	// moderation service: the raw body and its signature headers.
	HandleWebhook(ctx context.Context, body []byte, signature, timestamp string) error
	// Events returns up to limit logged violations of userID (of every
	// user when empty), newest first; limit 0 is the service's default.
	Events(ctx context.Context, userID string, limit int) ([]moderation.Event, error)
	// BanUser bans userID for d (0: the service's default duration).
	BanUser(ctx context.Context, userID string, d time.Duration) (moderation.Ban, error)
	// LiftBan ends userID's ban and reports whether there was one.
	LiftBan(ctx context.Context, userID string) (bool, error)
}

// ModerationConfig configures ModerationModule.
type ModerationConfig struct {
	// Service serves the webhook and the operator routes. Required; the
	// moderation service.
	Service ModerationService
	// AdminToken is the bearer token of the operator routes
	// (/moderation/...). Empty: those routes are not mounted at all.
	AdminToken string
}

// ModerationModule serves the moderation webhook, POST /webhooks/hive
// (exempt from the per-IP rate limit; the raw body, at most
// MaxWebhookBytes, with its x-hive-signature and x-hive-timestamp
// headers, answered {"received":true}), and, when AdminToken is set, the
// operator routes, which need "Authorization: Bearer <AdminToken>" (else
// 401 ADMIN_TOKEN_INVALID): GET /moderation/events?userId=&limit=
// ({"events": […]}), POST /moderation/bans/{userId} {"hours"?} (the Ban)
// and DELETE /moderation/bans/{userId} ({"lifted": bool}).
func ModerationModule(cfg ModerationConfig) Module { return &moderationModule{cfg: cfg} }

type moderationModule struct {
	cfg   ModerationConfig
	admin [sha256.Size]byte // of AdminToken
}

func (m *moderationModule) Register(r *Registrar) error {
	if m.cfg.Service == nil {
		return errors.New("transport: ModerationConfig.Service is required")
	}
	routes := []Route{
		// The moderation service calls from a few addresses and retries:
		// no per-IP throttle, and the signature is the authentication.
		{Method: "POST", Path: "/webhooks/hive", Handler: m.webhook, Unthrottled: true, Webhook: "hive"},
	}
	if m.cfg.AdminToken != "" {
		m.admin = sha256.Sum256([]byte(m.cfg.AdminToken))
		routes = append(routes,
			Route{Method: "GET", Path: "/moderation/events", Handler: m.withAdmin(m.events)},
			Route{Method: "POST", Path: "/moderation/bans/{userId}", Handler: m.withAdmin(m.ban)},
			Route{Method: "DELETE", Path: "/moderation/bans/{userId}", Handler: m.withAdmin(m.lift)},
		)
	}
	for _, rt := range routes {
		if err := r.Handle(rt); err != nil {
			return err
		}
	}
	return nil
}

// withAdmin requires the admin token. Both sides are hashed first, so
// the comparison takes the same time whatever the token's length.
func (m *moderationModule) withAdmin(h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		tok := bearer(r)
		sum := sha256.Sum256([]byte(tok))
		if tok == "" || subtle.ConstantTimeCompare(sum[:], m.admin[:]) != 1 {
			return ErrAdminTokenInvalid
		}
		return h(w, r)
	}
}

// POST /webhooks/hive: the raw body, verified with x-hive-signature and
// x-hive-timestamp.
func (m *moderationModule) webhook(w http.ResponseWriter, r *http.Request) error {
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ErrBodyTooLarge.WithMessage("the webhook body must be at most %d bytes", MaxWebhookBytes)
		}
		return ErrInvalidBody.WithMessage("the webhook body could not be read")
	}
	if err := m.cfg.Service.HandleWebhook(r.Context(), payload, r.Header.Get("x-hive-signature"), r.Header.Get("x-hive-timestamp")); err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]bool{"received": true})
	return nil
}

// GET /moderation/events?userId=&limit= → {"events": [...]}
func (m *moderationModule) events(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r, MaxModerationEventsLimit)
	if err != nil {
		return err
	}
	userID := r.URL.Query().Get("userId")
	if userID != "" && !uuid.Valid(userID) {
		return ErrInvalidQuery.WithMessage("userId must be a UUID")
	}
	events, err := m.cfg.Service.Events(r.Context(), userID, limit)
	if err != nil {
		return err
	}
	if events == nil {
		events = []moderation.Event{}
	}
	WriteJSON(w, http.StatusOK, map[string][]moderation.Event{"events": events})
	return nil
}

// POST /moderation/bans/{userId} {"hours"?} → Ban
func (m *moderationModule) ban(w http.ResponseWriter, r *http.Request) error {
	userID, err := pathUserID(r)
	if err != nil {
		return err
	}
	var req struct {
		Hours *float64 `json:"hours"`
	}
	if err := DecodeBody(w, r, &req); err != nil {
		return err
	}
	var d time.Duration
	if req.Hours != nil {
		h := *req.Hours
		if math.IsNaN(h) || h <= 0 || h > MaxBanHours {
			return ErrInvalidBody.WithMessage("hours must be a number above 0 and at most %d", MaxBanHours)
		}
		d = time.Duration(h * float64(time.Hour))
		if d <= 0 {
			return ErrInvalidBody.WithMessage("hours must be a number above 0 and at most %d", MaxBanHours)
		}
	}
	ban, err := m.cfg.Service.BanUser(r.Context(), userID, d)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, ban)
	return nil
}

// DELETE /moderation/bans/{userId} → {"lifted": bool}
func (m *moderationModule) lift(w http.ResponseWriter, r *http.Request) error {
	userID, err := pathUserID(r)
	if err != nil {
		return err
	}
	lifted, err := m.cfg.Service.LiftBan(r.Context(), userID)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]bool{"lifted": lifted})
	return nil
}

// pathUserID is the {userId} of an operator route, which must be a UUID.
func pathUserID(r *http.Request) (string, error) {
	id := r.PathValue("userId")
	if !uuid.Valid(id) {
		return "", ErrInvalidQuery.WithMessage("the userId in the path must be a UUID")
	}
	return id, nil
}
