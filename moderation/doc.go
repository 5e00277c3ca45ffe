// Package moderation watches the dating product's calls: it submits each
// call to an AI moderation service (package moderation/hive), takes the
// service's verified violation webhooks, ends the offending call, logs a
// ModerationEvent per offender, and bans repeat offenders for a while.
package moderation
