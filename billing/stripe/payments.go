package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/checkout/session"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/rendezvous-go/rendezvous/billing"
)

var _ billing.Payments = (*Payments)(nil)

// DefaultTolerance is how old a webhook signature may be by default:
// Stripe's recommended five minutes.
const DefaultTolerance = webhook.DefaultTolerance

// The metadata keys of the Checkout Sessions (and their PaymentIntents)
// that Payments creates.
const (
	// MetadataPackID holds the pack id; the webhook credits the pack of
	// that id as configured on the server.
	MetadataPackID = "packId"
	// MetadataUserID holds the buyer's user id, for the Stripe dashboard;
	// the webhook reads the buyer from client_reference_id.
	MetadataUserID = "userId"
)

// Config configures Payments. Zero fields take the documented defaults.
type Config struct {
	// SecretKey is the Stripe API key (sk_… or rk_…). Required.
	SecretKey string
	// WebhookSecret is the signing secret of the webhook endpoint
	// (whsec_…). Required.
	WebhookSecret string
	// APIBase is the base URL of the Stripe API. Default "": Stripe's own,
	// https://api.stripe.com. Tests point it at a local fake such as
	// stripe-mock, e.g. http://127.0.0.1:12111.
	APIBase string
	// Tolerance is how old a webhook signature's timestamp may be.
	// Default DefaultTolerance (5 minutes).
	Tolerance time.Duration
	// HTTPClient makes the API requests. Default: stripe-go's client (80 s
	// timeout).
	HTTPClient *http.Client
	// MaxNetworkRetries is how many times a failed API request is retried
	// (with the same idempotency key). Default 0: stripe-go's default, 2;
	// negative: no retry.
	MaxNetworkRetries int
	// Logger receives stripe-go's own log lines: requests at Debug level,
	// failures at Warn and Error level. Default: silent.
	Logger *slog.Logger
}

// Payments implements billing.Payments with the Stripe API (stripe-go
// v76): Checkout Sessions in payment mode and webhook signature
// verification. Each Payments has its own API client; stripe-go's
// package-level key and backends are never used. It is safe for
// concurrent use.
type Payments struct {
	sessions      session.Client
	webhookSecret string
	tolerance     time.Duration
}

// New validates cfg and returns a Payments.
func New(cfg Config) (*Payments, error) {
	if strings.TrimSpace(cfg.SecretKey) == "" {
		return nil, errors.New("stripe: Config.SecretKey is required")
	}
	if strings.TrimSpace(cfg.WebhookSecret) == "" {
		return nil, errors.New("stripe: Config.WebhookSecret is required")
	}
	if cfg.Tolerance < 0 {
		return nil, errors.New("stripe: Config.Tolerance must not be negative")
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	backend := &stripego.BackendConfig{
		HTTPClient:    cfg.HTTPClient,
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
	}
	if cfg.APIBase != "" {
		u, err := url.Parse(cfg.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("stripe: Config.APIBase %q is not an absolute http or https URL", cfg.APIBase)
		}
		backend.URL = stripego.String(cfg.APIBase)
	}
	switch {
	case cfg.MaxNetworkRetries < 0:
		backend.MaxNetworkRetries = stripego.Int64(0)
	case cfg.MaxNetworkRetries > 0:
		backend.MaxNetworkRetries = stripego.Int64(int64(cfg.MaxNetworkRetries))
	}
	if cfg.Logger != nil {
		backend.LeveledLogger = slogLogger{cfg.Logger}
	}
	return &Payments{
		sessions: session.Client{
			B:   stripego.GetBackendWithConfig(stripego.APIBackend, backend),
			Key: cfg.SecretKey,
		},
		webhookSecret: cfg.WebhookSecret,
		tolerance:     cfg.Tolerance,
	}, nil
}

// CreateCheckoutSession implements billing.Payments. The session is in
// payment mode with one line item: the pack's Price when it has a PriceID,
// else inline price data (its Amount and Currency, named "N tokens"). The
// user is the session's client_reference_id; the pack id and the user id
// are the metadata packId and userId of the session and of its
// PaymentIntent. req.IdempotencyKey is sent as the Idempotency-Key.
//
// A failure of the API (refused request, network error, Stripe outage) is
// billing.ErrPaymentProvider wrapping stripe-go's error; the cancellation
// or deadline of ctx is returned as ctx's error.
func (p *Payments) CreateCheckoutSession(ctx context.Context, req billing.CheckoutRequest) (billing.CheckoutSession, error) {
	if req.UserID == "" {
		return billing.CheckoutSession{}, errors.New("stripe: a checkout session needs a user id")
	}
	if !req.Pack.Purchasable() {
		return billing.CheckoutSession{}, billing.ErrPackNotPurchasable
	}
	item := &stripego.CheckoutSessionLineItemParams{Quantity: stripego.Int64(1)}
	if req.Pack.PriceID != "" {
		item.Price = stripego.String(req.Pack.PriceID)
	} else {
		item.PriceData = &stripego.CheckoutSessionLineItemPriceDataParams{
			Currency:   stripego.String(req.Pack.Currency),
			UnitAmount: stripego.Int64(req.Pack.Amount),
			ProductData: &stripego.CheckoutSessionLineItemPriceDataProductDataParams{
				Name: stripego.String(fmt.Sprintf("%d tokens", req.Pack.Tokens)),
			},
		}
	}
	metadata := func() map[string]string {
		return map[string]string{MetadataPackID: req.Pack.ID, MetadataUserID: req.UserID}
	}
	params := &stripego.CheckoutSessionParams{
		Mode:              stripego.String(string(stripego.CheckoutSessionModePayment)),
		ClientReferenceID: stripego.String(req.UserID),
		LineItems:         []*stripego.CheckoutSessionLineItemParams{item},
		Metadata:          metadata(),
		PaymentIntentData: &stripego.CheckoutSessionPaymentIntentDataParams{Metadata: metadata()},
	}
	if req.SuccessURL != "" {
		params.SuccessURL = stripego.String(req.SuccessURL)
	}
	if req.CancelURL != "" {
		params.CancelURL = stripego.String(req.CancelURL)
	}
	params.Context = ctx
	if req.IdempotencyKey != "" {
		params.SetIdempotencyKey(req.IdempotencyKey)
	}
	cs, err := p.sessions.New(params)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return billing.CheckoutSession{}, ctxErr
		}
		return billing.CheckoutSession{}, billing.ErrPaymentProvider.Wrap(fmt.Errorf("stripe: create checkout session: %w", err))
	}
	return billing.CheckoutSession{ID: cs.ID, URL: cs.URL}, nil
}

// checkoutSession holds the fields of a Checkout Session that webhooks
// use, read from the event's data.object.
type checkoutSession struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]string `json:"metadata"`
	PaymentStatus     string            `json:"payment_status"`
}

// ParseWebhook implements billing.Payments: it verifies the
// Stripe-Signature header against the raw payload with the webhook secret
// (any v1 signature of the header may match, as during a secret's
// rotation) and the timestamp against Config.Tolerance, then decodes the
// event. An event of any API version is accepted: only its id, type and,
// for checkout.session.* events, the session's id, client_reference_id,
// metadata packId and payment_status are read.
//
// A missing, malformed, wrong or stale signature is
// billing.ErrInvalidSignature (its message says which); a signed payload
// that is not an event, or a checkout.session.* event without a Checkout
// Session, is billing.ErrInvalidWebhook.
func (p *Payments) ParseWebhook(payload []byte, signatureHeader string) (billing.WebhookEvent, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, signatureHeader, p.webhookSecret, webhook.ConstructEventOptions{
		Tolerance:                p.tolerance,
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		var msg string
		switch {
		case errors.Is(err, webhook.ErrNotSigned):
			msg = "the Stripe-Signature header is missing"
		case errors.Is(err, webhook.ErrInvalidHeader):
			msg = "the Stripe-Signature header is malformed"
		case errors.Is(err, webhook.ErrTooOld):
			msg = "the webhook signature is too old"
		case errors.Is(err, webhook.ErrNoValidSignature):
			msg = "the webhook signature does not match the payload"
		default: // the signature is valid: the payload is not an event
			return billing.WebhookEvent{}, billing.ErrInvalidWebhook.WithMessage("the webhook payload is not a Stripe event").Wrap(err)
		}
		return billing.WebhookEvent{}, billing.ErrInvalidSignature.WithMessage("%s", msg).Wrap(err)
	}
	if ev.ID == "" || ev.Type == "" {
		return billing.WebhookEvent{}, billing.ErrInvalidWebhook.WithMessage("the Stripe event has no id or no type")
	}
	out := billing.WebhookEvent{ID: ev.ID, Type: string(ev.Type)}
	if !strings.HasPrefix(out.Type, "checkout.session.") {
		return out, nil
	}
	var cs checkoutSession
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		return billing.WebhookEvent{}, billing.ErrInvalidWebhook.WithMessage("the %s event has no data.object", out.Type)
	}
	if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil || cs.Object != "checkout.session" || cs.ID == "" {
		return billing.WebhookEvent{}, billing.ErrInvalidWebhook.WithMessage("the %s event holds no Checkout Session", out.Type).Wrap(err)
	}
	out.CheckoutSessionID = cs.ID
	out.ClientReferenceID = cs.ClientReferenceID
	out.PackID = cs.Metadata[MetadataPackID]
	out.PaymentStatus = cs.PaymentStatus
	return out, nil
}

// slogLogger adapts a *slog.Logger to stripe-go's leveled logger. Its
// per-request lines go to Debug level.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Debugf(format string, v ...any) {
	s.l.Debug("stripe: " + fmt.Sprintf(format, v...))
}
func (s slogLogger) Infof(format string, v ...any) { s.l.Debug("stripe: " + fmt.Sprintf(format, v...)) }
func (s slogLogger) Warnf(format string, v ...any) { s.l.Warn("stripe: " + fmt.Sprintf(format, v...)) }
func (s slogLogger) Errorf(format string, v ...any) {
	s.l.Error("stripe: " + fmt.Sprintf(format, v...))
}
