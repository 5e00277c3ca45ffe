// Package hive connects package moderation to the Hive AI moderation
// service: a Client that submits each starting call, and the verification
// and parsing of the service's violation webhooks.
//
// # Submissions
//
// Client implements moderation.Submitter. Submit POSTs, as JSON with
// "Authorization: Bearer <APIKey>", the stream submission
//
//	{"sessionId": "...", "channel": "...", "appId": "...", "uid": 4000000001, "token": "...", "noRecording": true}
//
// to Config.StreamURL: the moderation bot joins the channel with its own
// subscriber-only uid and token (moderation.Config.BotIdentity), never a
// participant's credentials, and records nothing. When that fails — a
// transport error, no answer within Config.Timeout (2 s by default), or a
// non-2xx status — and Config.ScreenshotURL is set, Submit POSTs the
// screenshot-mode fallback {"sessionId", "channel", "appId"} there with
// the same key and timeout. It returns an error only when nothing
// succeeded.
//
// # Webhooks
//
// Verify checks a webhook before anything reads it: the signature header
// is the hex HMAC-SHA256 of the raw body with the webhook secret
// (optionally "sha256=<hex>"), compared in constant time, and the
// timestamp header, Unix seconds or milliseconds, must be within a
// tolerance (5 minutes by default) of now. Failures match
// rendezvous.ErrInvalidSignature but are of KindUnauthenticated (HTTP 401).
// The signature covers the body only, so a captured delivery could be
// replayed within the tolerance: moderation.Service remembers each
// delivery's signature for twice the tolerance and applies it once.
//
// Parse reads the body leniently (see Parse) and Payload.IsViolation says
// whether it reports a violation.
package hive
