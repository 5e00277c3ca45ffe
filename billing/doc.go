// Package billing is the token wallet of the dating product: every user
// has a balance of tokens and a ledger of the transactions that made it;
// tokens are bought in packs with Stripe Checkout and spent one per queue
// join.
//
// # Packs and purchases
//
// The packs on sale (DefaultPacks: starter 5 tokens, plus 15, pro 30) are
// configured on the server, each with a Stripe Price id or an amount and a
// currency. Purchase asks the Payments (billing/stripe) for a Checkout
// Session in payment mode, with the user as client_reference_id and the
// pack id in the metadata "packId", and returns its URL. Without a
// Payments, Purchase and HandleWebhook fail with ErrPaymentsUnavailable
// (503) while everything else keeps working.
//
// # Webhook
//
// HandleWebhook verifies the Stripe-Signature of the raw body (a bad,
// missing or stale signature is ErrInvalidSignature, a 400, never a 500)
// and credits a pack on checkout.session.completed with payment_status
// "paid", or on checkout.session.async_payment_succeeded for sessions paid
// by delayed methods; every other event is acknowledged and ignored. The
// number of tokens comes from the server's pack named by the session's
// metadata, never from the event. Crediting is idempotent twice over, in
// the same store transaction as the credit: a Stripe event id is handled
// once, and a Checkout Session is credited once whatever the events that
// report it.
//
// # Debits and refunds
//
// Debit takes one token only if the balance holds one
// (ErrInsufficientTokens, a 402, otherwise); its key makes it idempotent,
// so a retried queue join never charges twice. Refund gives a debit's
// token back exactly once. GrantSignupBonus credits Config.SignupBonus
// tokens once per user.
//
// # Consistency
//
// A balance and its ledger change together in one atomic store operation
// (one conditional UPDATE and INSERT in store/postgres, one mutex in
// store/memory): a user's transactions, in Seq order, always add up to the
// balance, and no balance goes below zero (store/postgres also enforces
// CHECK (balance >= 0)). Transactions pages the ledger newest first with
// an opaque cursor that later transactions do not disturb.
//
// # Errors
//
// Errors are *rendezvous.Error values; transports map their Kind to a
// status:
//
//	ErrUnknownPack          400  UNKNOWN_PACK
//	ErrInvalidUserID        400  INVALID_USER_ID
//	ErrInvalidCursor        400  INVALID_CURSOR
//	ErrInvalidDebitKey      400  INVALID_DEBIT_KEY
//	ErrInvalidSignature     400  INVALID_SIGNATURE
//	ErrInvalidWebhook       400  INVALID_WEBHOOK
//	ErrInsufficientTokens   402  INSUFFICIENT_TOKENS
//	ErrDebitNotFound        404  DEBIT_NOT_FOUND
//	ErrDebitKeyConflict     409  DEBIT_KEY_CONFLICT
//	ErrPaymentsUnavailable  503  PAYMENTS_UNAVAILABLE
//	ErrPackNotPurchasable   503  PACK_NOT_PURCHASABLE
//	ErrPaymentProvider      503  PAYMENT_PROVIDER_ERROR
package billing
