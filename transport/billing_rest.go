package transport

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/rendezvous-go/rendezvous/auth"
)

// MaxWebhookBytes bounds the body of POST /webhooks/stripe.
const MaxWebhookBytes = 1 << 20

func (t *Transport) billingRoutes() []route {
	return []route{
		{method: "GET", path: "/tokens/packs", h: t.packs},
		{method: "GET", path: "/tokens/balance", h: t.withUser(t.balance)},
		{method: "GET", path: "/tokens/transactions", h: t.withUser(t.transactions)},
		{method: "POST", path: "/tokens/purchase", h: t.withUser(t.purchase)},
		// Stripe calls from a few addresses and retries on failure: no
		// per-IP throttle, and the signature is the authentication.
		{method: "POST", path: "/webhooks/stripe", h: t.stripeWebhook, unthrottled: true},
	}
}

// GET /tokens/packs → {"packs": [...]}
func (t *Transport) packs(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"packs": t.cfg.Billing.Packs()})
	return nil
}

// GET /tokens/balance → {"balance"}
func (t *Transport) balance(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	b, err := t.cfg.Billing.Balance(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"balance": b})
	return nil
}

// GET /tokens/transactions?cursor=&limit= → Page, newest first
func (t *Transport) transactions(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return ErrInvalidQuery.WithMessage("limit must be a whole number from 1 to 100")
		}
		limit = n
	}
	page, err := t.cfg.Billing.Transactions(r.Context(), p.UserID, q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// POST /tokens/purchase {"packId"} → 201 {"sessionId","url"}
func (t *Transport) purchase(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		PackID string `json:"packId"`
	}
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	cs, err := t.cfg.Billing.Purchase(r.Context(), p.UserID, req.PackID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, cs)
	return nil
}

// POST /webhooks/stripe: the raw body, verified with Stripe-Signature.
func (t *Transport) stripeWebhook(w http.ResponseWriter, r *http.Request) error {
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ErrBodyTooLarge.WithMessage("the webhook body must be at most %d bytes", MaxWebhookBytes)
		}
		return ErrInvalidBody.WithMessage("the webhook body could not be read")
	}
	if err := t.cfg.Billing.HandleWebhook(r.Context(), payload, r.Header.Get("Stripe-Signature")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"received": true})
	return nil
}
