package moderation

import rv "github.com/rendezvous-go/rendezvous"

// Errors of package moderation, compared with errors.Is.
var (
	// ErrUserBanned: the user is banned; the error's Details carry
	// "until" (RFC 3339).
	ErrUserBanned = rv.E(rv.KindForbidden, "USER_BANNED", "you are banned for now")
	// ErrWebhookUnavailable: no webhook secret is configured.
	ErrWebhookUnavailable = rv.E(rv.KindUnavailable, "MODERATION_UNAVAILABLE", "moderation webhooks are not configured")
	// ErrInvalidWebhookBody: a verified webhook whose body is not a JSON
	// object with a sessionId, or whose userId is not a participant of
	// that session.
	ErrInvalidWebhookBody = rv.E(rv.KindInvalid, "INVALID_MODERATION_WEBHOOK", "the moderation webhook body is invalid")
	// ErrInvalidBan: an operator's ban without a user, or of a negative or
	// too long duration.
	ErrInvalidBan = rv.E(rv.KindInvalid, "INVALID_BAN", "the ban is invalid")
)
