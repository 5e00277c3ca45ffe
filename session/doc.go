// Package session runs the timed video calls of the dating product: a
// Session per pair, Agora credentials for both participants
// (VideoTokenIssuer, implemented by package session/agora), and a
// server-authoritative end timer that is a durable scheduler job.
//
// # Lifecycle
//
// Matchmaking pops a pair, debits both users and calls Service.Start with
// the session id it chose. Start stores the Session (idempotent by id: a
// pair driven again gets the same session and uids), schedules the end job
// (EndJobKey, kind EndJobKind) due at EndAt = StartAt + Config.Duration,
// issues each participant's credentials and sends each of them
// EventStart. If the credentials cannot be issued, the session ends at
// once with ReasonTokenError and both debits are refunded.
//
// A session ends once, by the first of:
//
//   - the end job at EndAt: ReasonTimeout;
//   - a participant's hang-up (Service.End, POST /sessions/{id}/end):
//     ReasonEnded;
//   - moderation (Service.Terminate with ReasonModeration);
//   - failed credentials: ReasonTokenError.
//
// After a call that took place (timeout or hang-up), Config.OnEnded runs
// (the optin feature opens the choice window) before the end is announced.
//
// # Events
//
// On Namespace ("/video"), to rendezvous.UserTarget of each participant:
//
//	session:start  StartEvent: sessionId, channelName, startAt, endAt,
//	               durationSeconds, expiresAt, rtc {appId, token, uid},
//	               rtm {token, userId} (rtc and rtm are null without an
//	               Issuer); sent at the start, and again (Current) to a
//	               socket that connects during the call
//	session:end    EndEvent: sessionId, reason, endedAt
//
// # Durability
//
// Every end is finished and announced by the end job, run by whichever
// instance's Scheduler claims it: a hang-up or a moderation end
// reschedules the job due at once, and the job of a timeout is the one
// Start scheduled. So the end of a call is announced, and its refunds made,
// even if the instance that started it died. Handlers are idempotent and
// jobs run at least once: a crash between the announcement and the job's
// completion announces the end again (at least once after a crash,
// otherwise exactly once). An end job that fires before EndAt (clock skew
// beyond EndTolerance) fails and is retried.
//
// # Privacy
//
// Nothing sent to a participant names the other: the events carry the
// session id, the channel and the participant's own credentials. RTC uids
// are random, non-zero and distinct per session, and RTM user ids are
// random per-session pseudonyms ("p" and 16 hex digits), so that nothing
// links a user across sessions. User ids and debit keys never leave the
// server. GET /sessions/{id} answers SESSION_NOT_FOUND alike for an
// unknown session and for one the caller is not in.
package session
