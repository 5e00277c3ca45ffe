// Package optin is the double opt-in after a call: each participant
// chooses MATCH or PASS within a window; two MATCHes make one Match, and
// anything else, including silence until the window's durable auto-pass,
// is a non-mutual outcome.
//
// # Flow
//
// When a call that took place ends (it timed out or a participant hung
// up), the session feature calls OpenWindow (wired as session's
// Config.OnEnded) before it announces the end, so the window is open by
// the time a client hears of it. The window's deadline is the end plus
// Config.Window (60 s by default), and its auto-pass job (AutoPassJobKey,
// kind AutoPassJobKind) is due then.
//
// Each participant calls Choose once (POST /sessions/{id}/choice with
// {"choice":"MATCH"} or {"choice":"PASS"}); the same choice again is
// answered with the current state, the other one is
// CHOICE_ALREADY_MADE. The window is resolved by the first of: the second
// choice (two MATCHes are mutual, anything else non-mutual), a choice made
// at or after the deadline, or the auto-pass, which takes the missing
// choices as PASS.
//
// # Events
//
// The outcome is sent once, on Namespace ("/video"), to
// rendezvous.UserTarget of both participants:
//
//	match:mutual      MutualEvent: sessionId, matchId
//	match:non_mutual  NonMutualEvent: sessionId, outcome ("non_mutual")
//
// The call that resolves the window announces it: the Choose of the
// second choice, or the auto-pass job. A crash between the resolution
// and the announcement is covered by the job's retry, which announces
// again (at least once after a crash, otherwise exactly once).
//
// # Guarantees
//
// The Store resolves a window exactly once, whatever the concurrent
// choices and auto-passes, and writes a mutual outcome and its Match
// together: a Match exists exactly when an outcome is mutual, and one
// pair of users has one Match at most, made by their first mutual outcome
// and reused by any later one. A PASS is never told to the other user
// before the outcome: both hear only the outcome.
package optin
