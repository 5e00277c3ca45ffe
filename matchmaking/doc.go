// Package matchmaking is the dating product's queue: a signed-in user
// spends one token to wait for a stranger in a queue keyed by region and
// preferences, and a pairing worker, safe to run on every instance, pops
// FIFO pairs and hands each to the session feature.
//
// # Queues
//
// A queue is named by QueueKey: "<region>:<12 hex digits>", the digits
// being the start of the SHA-256 of the preferences' canonical JSON (keys
// sorted, no whitespace, numbers exactly as written), so {"a":1,"b":2}
// and {"b":2,"a":1} share a queue while {"a":1} and {"a":1.0} do not.
// Only users of one queue are paired, first come first served.
//
// # Joining: a saga
//
// The token lives in the wallet (Postgres), the queue in the Store
// (Redis), so Join cannot be one transaction. It runs as a saga whose
// every step either completes or is compensated:
//
//  1. Config.Busy: a user in a session gets ErrAlreadyInSession.
//  2. Store.Reserve creates the user's entry in StateJoining, with a fresh
//     debit key "queue:<uuid>". A user with an entry is not charged: a
//     waiting or joining user (a double click) gets StatusAlreadyQueued, a
//     matched one ErrAlreadyInSession. Busy is asked again after the
//     reservation, which closes the race with a pair being acked.
//  3. Config.Debit takes the token under the debit key. On failure the
//     reservation is discarded and the error returned unchanged
//     (INSUFFICIENT_TOKENS, 402).
//  4. Store.Activate puts the entry at the back of its queue. When the
//     reservation is gone (the sweep below took it), the debit is refunded
//     and ErrEntryGone returned.
//
// A process that dies between steps leaves a joining entry behind; each
// Tick's sweep refunds the debit key of joins older than
// Config.JoinTimeout, then discards them. The refund comes first, so a
// sweep cut short is finished by the next one. The one window left open
// is a debit slower than JoinTimeout whose Join activates between the
// sweep's refund and its discard: that user keeps a place already
// refunded (the house loses a token, never the user); JoinTimeout (60 s by
// default) is there to make it vanish.
//
// Refunds are keyed by the debit key, so every compensation may be
// repeated: one stay in the queue is one debit, refunded at most once.
//
// # Leaving, pairing and the guarantees
//
// Store.Remove takes only a waiting entry, and Store.PopPairs only
// waiting entries, each atomically, so a Leave racing the worker either
// refunds the user (StatusLeft) or finds them paired
// (StatusAlreadyMatched with the session id), never both and never
// neither. A refund that fails a few times in a row is handed to a durable
// job (RefundJobKind, HandleRefund) when a Scheduler is configured.
//
// Tick pops pairs with fresh session ids. Each member gets EventMatch
// (MatchEvent: session id, queue key and time, never the partner), then
// Config.OnPair starts the session, and the pair is acked (its entries
// deleted). A pair whose OnPair fails, or whose instance dies, stays
// pending; after Config.PairLease any instance's Tick claims it and calls
// OnPair again with the same SessionID, so OnPair must be idempotent by
// it, and safe for concurrent use: a Tick drives up to 16 pairs at once.
// A lone waiter is never paired with themself and stays in the queue
// however many ticks pass. Run ticks every Config.TickInterval and may run
// on every instance at once.
//
// Every user therefore ends a stay in the queue in exactly one of two
// ways: in exactly one pair (their token spent), or refunded once.
//
// # Presence and the disconnect grace
//
// The /queue transport reports each socket: SocketConnected,
// SocketRefresh (every PresenceTTL/3) and SocketDisconnected. When a
// user's last socket goes, a durable job (GraceJobKind, HandleGrace) is
// due DisconnectGrace later. A reconnect in between (a page reload) moves
// the job to PresenceTTL+DisconnectGrace ahead, as every refresh does, so
// the user keeps their place. When the job fires with no socket present,
// a waiting user is taken out with a refund and a Notice (reason
// DISCONNECTED) is kept; the next socket to connect receives it as
// EventLeft. Since each connect and refresh keeps the job that far ahead,
// the users of an instance that crashed, whose sockets never disconnect,
// are taken out once their presence has run out and the grace has passed.
//
// # Events
//
// On Namespace ("/queue"), to rendezvous.UserTarget(userID):
//
//	match        MatchEvent {"sessionId", "queueKey", "matchedAt"}
//	queue:left   Notice {"reason": "DISCONNECTED", "refunded": true}
//
// Stores: store/memory (one process) and store/redis (shared by
// instances); store/storetest's RunQueue checks both.
package matchmaking
