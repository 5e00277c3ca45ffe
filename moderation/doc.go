// Package moderation watches the dating product's calls: it submits each
// call to an AI moderation service (package moderation/hive), takes the
// service's verified violation webhooks, ends the offending call, logs a
// ModerationEvent per offender, and bans repeat offenders for a while.
//
// # Submitting calls
//
// On session:start the host calls (*Service).SubmitCall in its own
// goroutine, so that moderation never delays a call: it issues the
// moderation bot's subscriber-only identity for the channel
// (Config.BotIdentity) and hands it to Config.Submitter. A failure is
// logged at WARN and returned; the call goes on.
//
// # Violations
//
// HandleWebhook verifies a webhook (the hex HMAC-SHA256 of the raw body
// with Config.WebhookSecret, a timestamp within WebhookTolerance), reads
// it, checks that the offender named, if any, is one of the call's two
// participants, and hands the violation to a durable ApplyJobKind job on
// Config.Scheduler: the webhook's answer never waits for the effects, and
// the effects survive a crash. Each delivery is identified by the SHA-256
// of its signature; a delivery seen within twice the tolerance is
// acknowledged and not applied again, and the job, keyed by the delivery,
// is idempotent, so one delivery logs one Event per offender however
// often it arrives.
//
// HandleApply, the job's handler, ends the call (Config.EndSession: the
// session feature's Terminate with its violation reason), logs an Event
// for each offender (the named user, else both participants), sends the
// offender EventAction {"action": "warn", "reason"} on Namespace, and
// makes its choice in the call's window PASS (Config.ForcePass), so that
// a violation never ends in a match. When an offender has BanThreshold
// violations (3) received within Window (24 h), it is banned for
// BanDuration (24 h): EventAction {"action": "ban", "reason", "until"} is
// sent once, and the user is taken out of the queue with a refund
// (Config.LeaveQueue).
//
// # Bans
//
// CheckBan returns ErrUserBanned (403) with Details {"until": time} for
// a banned user: the queue and the call namespaces call it before letting
// a user in. A ban ends by itself at its until; operators ban (BanUser)
// and lift bans (LiftBan), and read the log (Events).
//
// # Stores
//
// An EventStore logs violations (store/memory, store/postgres) and a
// BanStore keeps bans and seen deliveries with TTLs (store/memory,
// store/redis); store/storetest.RunModeration checks both.
package moderation
