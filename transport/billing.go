package transport

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/rendezvous-go/rendezvous/auth"
	"github.com/rendezvous-go/rendezvous/billing"
)

// MaxWebhookBytes bounds the body of POST /webhooks/stripe.
const MaxWebhookBytes = 1 << 20

// BillingConfig configures BillingModule.
type BillingConfig struct {
	// Service serves the token wallet. Required.
	Service *billing.Service
	// Authenticator checks the access tokens of the wallet's endpoints.
	// Required; the accounts' *auth.Service.
	Authenticator Authenticator
}

// BillingModule serves the token wallet (/tokens/...) and the Stripe
// webhook (POST /webhooks/stripe, exempt from the per-IP rate limit).
func BillingModule(cfg BillingConfig) Module { return &billingModule{cfg: cfg} }

type billingModule struct {
	cfg BillingConfig
}

func (m *billingModule) Register(r *Registrar) error {
	if m.cfg.Service == nil {
		return errors.New("transport: BillingConfig.Service is required")
	}
	if m.cfg.Authenticator == nil {
		return errors.New("transport: BillingConfig.Authenticator is required")
	}
	withUser := func(h UserHandler) HandlerFunc { return r.WithUser(m.cfg.Authenticator, h) }
	for _, rt := range []Route{
		{Method: "GET", Path: "/tokens/packs", Handler: m.packs},
		{Method: "GET", Path: "/tokens/balance", Handler: withUser(m.balance)},
		{Method: "GET", Path: "/tokens/transactions", Handler: withUser(m.transactions)},
		{Method: "POST", Path: "/tokens/purchase", Handler: withUser(m.purchase)},
		// Stripe calls from a few addresses and retries on failure: no
		// per-IP throttle, and the signature is the authentication.
		{Method: "POST", Path: "/webhooks/stripe", Handler: m.stripeWebhook, Unthrottled: true, Webhook: "stripe"},
	} {
		if err := r.Handle(rt); err != nil {
			return err
		}
	}
	return nil
}

// GET /tokens/packs → {"packs": [...]}
func (m *billingModule) packs(w http.ResponseWriter, r *http.Request) error {
	WriteJSON(w, http.StatusOK, map[string]any{"packs": m.cfg.Service.Packs()})
	return nil
}

// GET /tokens/balance → {"balance"}
func (m *billingModule) balance(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	b, err := m.cfg.Service.Balance(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]int{"balance": b})
	return nil
}

// GET /tokens/transactions?cursor=&limit= → Page, newest first
func (m *billingModule) transactions(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return ErrInvalidQuery.WithMessage("limit must be a whole number from 1 to 100")
		}
		limit = n
	}
	page, err := m.cfg.Service.Transactions(r.Context(), p.UserID, q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, page)
	return nil
}

// POST /tokens/purchase {"packId"} → 201 {"sessionId","url"}
func (m *billingModule) purchase(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		PackID string `json:"packId"`
	}
	if err := DecodeBody(w, r, &req); err != nil {
		return err
	}
	cs, err := m.cfg.Service.Purchase(r.Context(), p.UserID, req.PackID)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusCreated, cs)
	return nil
}

// POST /webhooks/stripe: the raw body, verified with Stripe-Signature.
func (m *billingModule) stripeWebhook(w http.ResponseWriter, r *http.Request) error {
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ErrBodyTooLarge.WithMessage("the webhook body must be at most %d bytes", MaxWebhookBytes)
		}
		return ErrInvalidBody.WithMessage("the webhook body could not be read")
	}
	if err := m.cfg.Service.HandleWebhook(r.Context(), payload, r.Header.Get("Stripe-Signature")); err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, map[string]bool{"received": true})
	return nil
}
