// Package storetest is the conformance suite of the rendezvous stores:
// every implementation of a store interface runs through the same cases,
// so that code tested against store/memory behaves the same on
// store/redis.
//
// There is one Run function per interface:
//
//   - RunRooms checks a rooms.Store: every documented rule and error, join
//     order and host succession, expiry of the whole room after its last
//     write, and atomicity under concurrent calls.
//   - RunRateLimiter checks a fixed-window rate limiter.
//   - RunBroker checks a rendezvous.Notifier that can also be subscribed to.
//   - RunAuth checks an auth.Store (users, identities, refresh-token
//     rotation and reuse, codes) and RunCutoffs an auth.CutoffStore.
//   - RunWallet checks a billing.Store: balance and ledger agree, no
//     negative balance, idempotent purchases, debits, refunds and bonuses,
//     under concurrent calls.
//   - RunScheduler checks a rendezvous.JobStore: due and not-due jobs,
//     replacement and cancellation, leases, re-claim after a lease expires,
//     fencing tokens, and concurrent claimers that never share a job.
//   - RunSessions checks a session.Store: idempotent creation, one end of
//     a session under concurrent Ends, a user's newest live session.
//   - RunOptin checks an optin.Store: the rules of a choice, one resolution
//     of a window under concurrent choices and expiries, a Match exactly
//     when an outcome is mutual, and one Match per pair of users.
//   - RunChat checks a chat.Store over its optin.Store: the order and
//     cursors of Matches, Seqs without gaps under concurrent senders, one
//     message per clientMessageId, the history queries, participants, and
//     Unmatch (gone for both; a new mutual outcome makes a new match).
//   - RunQueue checks a matchmaking.Store: every method's rules, FIFO
//     pairs, lone waiters that stay, pops across many queue keys, stale
//     joins and pair leases, presence and notices, and concurrent joins,
//     removes and pops in which each entry ends paired once or removed
//     once.
//   - RunModeration checks a moderation.EventStore (RunModerationEvents:
//     one event per delivery and offender under concurrent records,
//     counts and newest-first lists) and a moderation.BanStore (RunBans:
//     one ban of concurrent bans, expiry, lifts, seen deliveries).
//
// An implementation's tests call it with a constructor that returns a
// fresh, isolated instance for each case:
//
//	func TestRoomStore(t *testing.T) {
//		storetest.RunRooms(t, func(t *testing.T) storetest.RoomHarness {
//			clock := fakeclock.New(time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC))
//			return storetest.RoomHarness{
//				Store:       memory.NewRoomStore(clock),
//				FastForward: clock.Advance,
//				Now:         clock.Now,
//			}
//		})
//	}
//
// Cases run as parallel subtests; run the suite with -race. When an
// implementation cannot move its clock (a real Redis server), expiry is
// checked with short TTLs and real sleeps, in no more than two cases per
// suite.
//
// The suite needs a *testing.T, so this package has no runnable example:
// store/memory and store/redis show its use in their tests.
package storetest
