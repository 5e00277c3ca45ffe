// Package redis implements the rendezvous store interfaces on Redis, for
// deployments where several instances share state: RoomStore
// (rooms.Store), RateLimiter, Broker (rendezvous.Notifier over pub/sub),
// CutoffStore (auth.CutoffStore, the access-token cut-off of logout-all)
// and QueueStore (matchmaking.Store, the dating queue).
// Any goredis.UniversalClient works: a single server, Sentinel or Redis
// Cluster.
//
// # Atomicity
//
// Every RoomStore method that writes is one Lua script (embedded from
// lua/*.lua), so its checks and its change happen as one step whatever
// other instances do: a room never exceeds MaxUsers under concurrent
// joins, and only one of several concurrent last leaves closes it. Scripts
// run with EVALSHA and fall back to EVAL when Redis does not know them yet.
// Scripts report rule violations as a status that the Go side returns as
// the rooms error with that Code, so errors.Is(err, rooms.ErrRoomFull)
// works; driver and network errors are wrapped.
//
// # Failures
//
// Every store turns an error that means Redis cannot serve — a refused or
// broken connection, a timeout, a connection-pool timeout, an open Breaker,
// a closed client, or a reply such as LOADING or MASTERDOWN — into
// rendezvous.ErrStoreUnavailable (code STORE_UNAVAILABLE, HTTP 503), with
// the driver's error kept as the cause. A canceled context stays a
// cancellation; other errors are wrapped as they are.
//
// Two go-redis hooks keep an unreachable or hung Redis from holding
// callers up. Timeouts gives each command one time budget, retries
// included (it needs Options.ContextTimeoutEnabled); Breaker fails
// commands at once after consecutive network failures or timeouts, and
// probes Redis again after a cool-down:
//
//	opt.ContextTimeoutEnabled = true
//	client := goredis.NewClient(opt)
//	breaker, _ := redis.NewBreaker(redis.BreakerConfig{Failures: 5, Cooldown: 2 * time.Second})
//	client.AddHook(breaker)
//	client.AddHook(redis.Timeouts{Command: time.Second})
//
// # Key layout
//
// With the default prefix "rv:", a room with code CODE has:
//
//	rv:room:{CODE}                hash: code, hostId, isLocked ("0"/"1"),
//	                              maxUsers, state, createdAt, updatedAt,
//	                              seq (the last join sequence number)
//	rv:room:{CODE}:users          sorted set: member user ids scored by
//	                              join sequence, longest-present first
//	rv:room:{CODE}:user:<userId>  hash: id, displayName, joinedAt
//	rv:room:{CODE}:presence       sorted set: "<userId>|<socketId>", one
//	                              per open socket (RoomStore.Touch),
//	                              scored by its expiry in unix ms
//	rv:room:{CODE}:roster         string: every member's id, displayName
//	                              and joinedAt in join order, each field
//	                              as <byte length>:<bytes>; rewritten by
//	                              the scripts that change the membership,
//	                              so that admitting a socket
//	                              (RoomStore.Admit) reads one key, not one
//	                              hash per member (a room without one is
//	                              read from the member hashes)
//	rv:room:{CODE}:closed         string "1": the room was closed (Close,
//	                              or the last Leave); kept until
//	                              rooms.ClosedGrace after its TTL would
//	                              have run out, so that its expiry job
//	                              does not announce EXPIRED
//
// Times are unix milliseconds in decimal, so they round-trip exactly to
// the millisecond and come back in UTC. The join sequence (HINCRBY on the
// room's seq field) orders members strictly even when they join within the
// same millisecond, so the host who leaves is always succeeded by the
// same member: the one with the lowest score.
//
// The braces are part of the keys: they are a Redis Cluster hash tag, so
// every key of a room lives in the same slot and one script can touch
// them all. Room codes containing '{' or '}' are therefore refused (a
// read or write of such a code returns rooms.ErrRoomNotFound).
//
// Every script that writes sets the TTL of the write (rooms.Write.TTL,
// rounded up to whole milliseconds) on every key of the room again, so the
// room expires as one unit after its last write and no key is ever left
// without a TTL; closing the room, or the last member leaving, deletes
// every key at once.
//
// The queue (QueueStore) keeps every key under the one hash tag {q}, so
// that the scripts that pop pairs across queue keys work on a Redis
// Cluster: the whole queue of a prefix lives in one slot, on one shard.
// With the default prefix:
//
//	rv:{q}:e:<userId>      hash: key, debit, state, session, joined (ms)
//	rv:{q}:k:<queueKey>    sorted set: waiting user ids scored by a global
//	                       join sequence (rv:{q}:seq, INCR), so FIFO
//	rv:{q}:ready           set: the queue keys with two or more waiting
//	                       users, kept up to date by the same scripts that
//	                       add and remove waiting users, so a pop costs in
//	                       the pairs it makes, not in the lone waiters
//	rv:{q}:waiting         string: the number of waiting entries
//	rv:{q}:joining         sorted set: joining user ids by reserve time
//	                       (ms), for the sweep of stale joins
//	rv:{q}:pairs           hash: session id -> pending pair (JSON array)
//	rv:{q}:leases          sorted set: pending session ids by lease end
//	rv:{q}:p:<userId>      hash: /queue socket id -> presence expiry (ms)
//	rv:{q}:n:<userId>      string: the user's notice (JSON)
//
// No queue key has a TTL: an entry leaves only through a call that pairs
// or refunds it. A prefix holding braces would move the hash tag into the
// prefix; the keys of one prefix still share one slot.
//
// The rate limiter keeps one counter per limited key,
// rv:ratelimit:<key>, expiring with its window. The broker publishes each
// event on the channel of its target, rv:ev:<len(ns)>:<ns>:<target> (for
// example rv:ev:6:/rooms:room:ABCD), and each instance subscribes only to
// the channels of the targets its sockets are in (Broker.Follow), plus
// rv:ev while it has a subscriber; see Broker for why a channel per target
// rather than hashed shard channels. The cut-off store keeps
// rv:auth:cutoff:<userId> (unix milliseconds) for one access-token
// lifetime.
package redis
