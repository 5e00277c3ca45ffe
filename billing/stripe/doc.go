// Package stripe implements billing.Payments with the Stripe API through
// stripe-go v76: token packs are sold with Stripe Checkout, and the
// webhook that reports paid sessions is verified with the endpoint's
// signing secret.
//
// # Checkout
//
// CreateCheckoutSession creates a Checkout Session in payment mode with
// one line item (the pack's Stripe Price, or inline price data from its
// amount and currency), the buyer's user id as client_reference_id, the
// pack id and user id in the metadata packId and userId (of the session
// and of its PaymentIntent), the configured success and cancel URLs, and
// the caller's idempotency key. Each Payments has its own API backend
// (Config.APIBase, Config.HTTPClient): stripe-go's package-level key and
// backends are never read nor written, so several Payments, for several
// Stripe accounts or a local fake, live side by side.
//
// # Webhooks
//
// ParseWebhook checks the Stripe-Signature header of the raw request body
// (HMAC-SHA256 with the signing secret, any of several v1 signatures
// during a secret's rotation, a timestamp no older than Config.Tolerance)
// before it reads anything, and accepts events of any API version: it
// reads only the event's id and type and, for checkout.session.* events,
// the session's id, client_reference_id, metadata packId and
// payment_status, from the event's raw data.object. The number of tokens
// is never read from the event: billing.Service takes it from its own
// pack configuration.
//
// # Testing
//
// Point Config.APIBase at stripe-mock (github.com/stripe/stripe-mock) to
// create sessions without a Stripe account, and sign test payloads with
// stripe-go's webhook.GenerateTestSignedPayload, as the Example does.
package stripe
