package billing

import rv "github.com/rendezvous-go/rendezvous"

// Errors of package billing. They are *rendezvous.Error values compared
// with errors.Is; the returned error may carry a more specific message or
// a cause.
var (
	// ErrUnknownPack is returned by Purchase for a pack id that is not
	// configured.
	ErrUnknownPack = rv.E(rv.KindInvalid, "UNKNOWN_PACK", "unknown token pack")
	// ErrPackNotPurchasable is returned by Purchase for a configured pack
	// that has neither a Stripe price id nor an amount and currency: a
	// configuration gap on the server, hence KindUnavailable (503).
	ErrPackNotPurchasable = rv.E(rv.KindUnavailable, "PACK_NOT_PURCHASABLE", "this token pack cannot be purchased at the moment")
	// ErrPaymentsUnavailable is returned by Purchase and HandleWebhook when
	// no payment provider is configured.
	ErrPaymentsUnavailable = rv.E(rv.KindUnavailable, "PAYMENTS_UNAVAILABLE", "payments are not configured")
	// ErrPaymentProvider is returned when the payment provider's API fails
	// or refuses a request; the cause is wrapped and never shown to
	// clients.
	ErrPaymentProvider = rv.E(rv.KindUnavailable, "PAYMENT_PROVIDER_ERROR", "the payment provider failed; try again later")

	// ErrInvalidSignature is returned by HandleWebhook (and
	// Payments.ParseWebhook) when the webhook's signature header is
	// missing, malformed, wrong, or too old.
	ErrInvalidSignature = rv.ErrInvalidSignature
	// ErrInvalidWebhook is returned by Payments.ParseWebhook for a
	// correctly signed payload that is not a usable event (not JSON, or a
	// checkout.session event without a session). HandleWebhook passes it
	// on; a verified event whose content the Service cannot use (unknown
	// pack, missing user) is logged and acknowledged instead.
	ErrInvalidWebhook = rv.E(rv.KindInvalid, "INVALID_WEBHOOK", "the webhook event is invalid")

	// ErrInsufficientTokens is returned by Debit when the balance is
	// below one token.
	ErrInsufficientTokens = rv.E(rv.KindPaymentRequired, "INSUFFICIENT_TOKENS", "not enough tokens")
	// ErrDebitNotFound is returned by Refund when no debit has the key.
	ErrDebitNotFound = rv.E(rv.KindNotFound, "DEBIT_NOT_FOUND", "debit not found")
	// ErrDebitKeyConflict is returned by Debit when the key is already
	// the key of another user's debit.
	ErrDebitKeyConflict = rv.E(rv.KindConflict, "DEBIT_KEY_CONFLICT", "the debit key is already used by another user")
	// ErrInvalidDebitKey is returned for an empty debit key, or one longer
	// than MaxKeyLength bytes or not printable UTF-8.
	ErrInvalidDebitKey = rv.E(rv.KindInvalid, "INVALID_DEBIT_KEY", "the debit key is invalid")
	// ErrInvalidCursor is returned by Transactions for a cursor it did not
	// make.
	ErrInvalidCursor = rv.ErrInvalidCursor
	// ErrInvalidUserID is returned for a user id that is not a UUID.
	ErrInvalidUserID = rv.E(rv.KindInvalid, "INVALID_USER_ID", "the user id is invalid")
)
