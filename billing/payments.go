package billing

import "context"

// Payments is the payment provider: it creates Checkout Sessions and
// verifies the webhook events that report their outcome. Package
// billing/stripe implements it with the Stripe API.
type Payments interface {
	// CreateCheckoutSession creates a Checkout Session in payment mode for
	// one req.Pack, with req.UserID as its client reference and the pack id
	// in its metadata ("packId"). A failure of the provider is
	// ErrPaymentProvider (wrapping the cause).
	CreateCheckoutSession(ctx context.Context, req CheckoutRequest) (CheckoutSession, error)
	// ParseWebhook verifies that payload, the raw request body, is signed
	// by signatureHeader (the Stripe-Signature header) with the webhook
	// secret, recently enough, and returns the event. Any verification
	// failure is ErrInvalidSignature; a signed payload that is not a
	// usable event is ErrInvalidWebhook.
	ParseWebhook(payload []byte, signatureHeader string) (WebhookEvent, error)
}

// CheckoutRequest asks a Payments for a Checkout Session.
type CheckoutRequest struct {
	// UserID is the buyer: the session's client_reference_id.
	UserID string
	// Pack is what is bought: one unit of it.
	Pack Pack
	// SuccessURL and CancelURL are where the buyer's browser goes after
	// paying or giving up.
	SuccessURL, CancelURL string
	// IdempotencyKey makes retries of this request create one session.
	IdempotencyKey string
}

// CheckoutSession is a created Checkout Session: the client redirects the
// buyer to URL.
type CheckoutSession struct {
	// ID is the provider's session id (cs_…).
	ID string `json:"sessionId"`
	// URL is the provider's payment page for the session.
	URL string `json:"url"`
}

// The webhook event types that credit a purchase.
const (
	// EventCheckoutCompleted reports a completed Checkout Session; it
	// credits the pack when PaymentStatus is PaymentStatusPaid. A session
	// paid by a delayed method completes unpaid and is credited by
	// EventCheckoutAsyncPaymentSucceeded.
	EventCheckoutCompleted = "checkout.session.completed"
	// EventCheckoutAsyncPaymentSucceeded reports that the delayed payment
	// of a completed session succeeded; it credits the pack.
	EventCheckoutAsyncPaymentSucceeded = "checkout.session.async_payment_succeeded"
)

// PaymentStatusPaid is the payment status of a paid Checkout Session.
const PaymentStatusPaid = "paid"

// WebhookEvent is a verified webhook event. The Checkout Session fields are
// set for the checkout.session.* event types only.
type WebhookEvent struct {
	// ID is the provider's event id (evt_…), unique per event; redelivery
	// of an event keeps its id.
	ID string
	// Type is the event type, such as EventCheckoutCompleted.
	Type string
	// CheckoutSessionID is the session's id (cs_…).
	CheckoutSessionID string
	// ClientReferenceID is the session's client_reference_id: the buyer.
	ClientReferenceID string
	// PackID is the session's metadata "packId".
	PackID string
	// PaymentStatus is the session's payment_status: "paid", "unpaid" or
	// "no_payment_required".
	PaymentStatus string
}
