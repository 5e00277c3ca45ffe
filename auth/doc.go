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
//     "access") and its issue stamp in microseconds ("iat_us", see below).
//     Authenticate pins the algorithm, checks every claim, refuses room
//     and refresh tokens, and refuses tokens issued before the user's last
//     LogoutAll or DeleteAccount (the cut-off);
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
// once and replaced by any newer code. StartLogin answers the same whether
// or not an account owns the identifier.
//
// # Sign-in limits
//
// The limits that protect an identifier cannot be spent by strangers: each
// is counted per requester, the client address the transport passes in
// (an IPv6 address counts as its /64), with only a generous ceiling per
// identifier. With the defaults:
//
//   - codes sent: 20 per requester per hour whatever the identifier, 3 per
//     requester per identifier, and at most 10 per identifier whoever asks
//     (against flooding a phone); a request refused by a requester's own
//     limit is not counted against the identifier, so one address can
//     never spend more than 3 of an identifier's 10;
//   - wrong guesses: 5 per requester per code lock that requester out of
//     that code (even the right code is refused to it, CODE_ATTEMPTS_EXCEEDED)
//     while the owner at another address can still use it; 10 per code
//     from all requesters together exhaust the code for everyone. Any new
//     code starts with no attempts, so a fresh send always gives the owner
//     a working code.
//
// Brute force: each wrong guess of a 6-digit code succeeds with a
// probability of 1 in 10^6, so one code falls with a probability of at
// most 10/10^6 = 10^-5, and an identifier, which gets at most 10 codes an
// hour, with at most 100/10^6 = 10^-4 per hour of sustained attack, which
// needs at least 4 addresses to request the codes and 2 per code to guess,
// and sends the owner 10 codes an hour. In general the bound is
// SendLimitPerIdentifier × CodeMaxTotalAttempts / 10^6 per SendWindow.
//
// # Logout-all cut-offs
//
// LogoutAll and DeleteAccount record a cut-off for the user in the
// CutoffStore, and Authenticate refuses (ErrTokenRevoked) every access
// token whose stamp is not after it. Stamps and cut-offs come from one
// per-Service stamp clock: the Config.Clock in microseconds, made strictly
// increasing, so that a frozen clock or two calls within one tick still
// order them. A cut-off is taken after the refresh families are revoked
// and rounded up to the millisecond (the CutoffStore's precision), and
// every later stamp of the Service is above it. On one instance this is
// exact: a token issued before a LogoutAll or DeleteAccount (the issuing
// call returned before the LogoutAll was called) is always refused, one
// issued after it returned is always accepted. A refresh stamps its token
// before rotating, so a refresh that wins a race against LogoutAll yields
// a token that is cut off with its family.
//
// Across instances the order of a stamp and a cut-off taken on two
// machines is the order of their clocks, so instances are assumed to keep
// their clocks synchronised (NTP, skew of a few milliseconds). A Service
// that reads a cut-off (Authenticate, Login, LogoutAll) moves its stamp
// clock past it, by at most one second ahead of its own clock, so tokens
// it issues afterwards are accepted even if its clock runs behind. What
// skew can still do: with instance B's clock d ahead of instance A's, a
// token B issued less than d before a LogoutAll on A survives it (until it
// expires); with B's clock d behind, a token B refreshes less than d after
// a LogoutAll on A that B has not read yet is refused (the client
// refreshes again).
//
// # When the CutoffStore fails
//
// A cut-off is kept in the CutoffStore for one access-token lifetime,
// since no token it cuts off outlives that, and the Service keeps a copy
// of every cut-off it set or read for that long too. When the CutoffStore
// does not answer (Redis down), Authenticate fails open rather than taking
// down every authenticated route: it logs a warning (at most one line per
// 10 seconds, with the number of failures it did not log) and enforces
// only the cut-offs this instance holds. So during an outage a LogoutAll
// or DeleteAccount made on this instance, or one it read before the
// outage, still holds here; one made on another instance that this one
// never read is not enforced here until the store answers again. LogoutAll
// and DeleteAccount report the failure to write (the families are revoked
// and the account deleted all the same, and the cut-off holds on this
// instance), so that the caller can retry. A canceled or timed-out request
// fails with rendezvous.ErrCanceled or rendezvous.ErrTimeout.
package auth
