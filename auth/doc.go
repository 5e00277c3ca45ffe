// Package auth issues and verifies the credentials of rendezvous.
//
// RoomTokens are the connection tokens of package rooms: one HS256 JWT per
// room member carrying roomCode and userId, of a distinct type ("typ":
// "room", audience AudienceRooms) that no other part of the product
// accepts. The token's signature and expiry are checked here; whether the
// bearer may still use it (the room is open, the user is still a member)
// is checked by package rooms against the store on every use, so closing a
// room or kicking a member invalidates tokens at once.
//
// Verification pins the algorithm to HS256, so "alg":"none" and
// algorithm-confusion tokens are rejected.
//
// # Accounts and sessions
//
// Service implements the accounts of the dating product: anonymous
// sign-up, the user's profile (the "anonymous fields" a match partner
// sees, User.Public), phone and email verification with one-time codes,
// sign-in on a new device with such a code, logout, logout everywhere and
// account deletion. Its durable state lives in a Store (store/postgres in
// production, store/memory embedded); the access-token cut-off in a
// CutoffStore (store/redis when several instances run).
//
// A session is two tokens:
//
//   - an access token: an HS256 JWT of 15 minutes with "iss", "aud"
//     (AudienceAPI), "sub", "jti", "iat", "exp", an explicit type ("typ":
//     "access") and the issue time in milliseconds ("iat_ms").
//     Authenticate pins the algorithm, checks every claim, refuses room
//     and refresh tokens, and refuses tokens issued before the user's last
//     LogoutAll or DeleteAccount (the cut-off, compared to the
//     millisecond);
//   - a refresh token: 256 random bits, opaque, stored only as its
//     SHA-256, valid 30 days. Every refresh consumes it and returns a new
//     one of the same family. Presenting a consumed token again is reuse:
//     the whole family is revoked, its newest token included. An optional
//     grace window (Config.RefreshGrace) lets the token just rotated be
//     presented again for a few seconds, for clients that refresh from two
//     tabs at once.
//
// Verification codes are 6 random digits, sent through a CodeSender, kept
// as an HMAC-SHA256 keyed with the service secret, valid 10 minutes, used
// once, replaced by any newer code and refused after 5 wrong attempts.
// Sending is limited per identifier and per IP address. StartLogin answers
// the same whether or not an account owns the identifier.
package auth
