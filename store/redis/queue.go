package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rendezvous-go/rendezvous/matchmaking"
)

var _ matchmaking.Store = (*QueueStore)(nil)

// The queue scripts, one per operation, each prefixed with
// lua/queue_lib.lua.
var (
	queueReserveScript    = queueScript("queue_reserve.lua")
	queueActivateScript   = queueScript("queue_activate.lua")
	queueDiscardScript    = queueScript("queue_discard.lua")
	queueGetScript        = queueScript("queue_get.lua")
	queueRemoveScript     = queueScript("queue_remove.lua")
	queueStaleJoinsScript = queueScript("queue_stale_joins.lua")
	queuePopScript        = queueScript("queue_pop.lua")
	queueClaimScript      = queueScript("queue_claim.lua")
	queueAckScript        = queueScript("queue_ack.lua")
	queueDropSocketScript = queueScript("queue_drop_socket.lua")
)

func queueScript(name string) *goredis.Script {
	return goredis.NewScript(luaSource("queue_lib.lua") + "\n" + luaSource(name))
}

// QueueStore is a matchmaking.Store kept in Redis, shared by every
// instance that uses the same Redis and prefix. Every method that reads
// more than one key, or writes, is one Lua script, so it is atomic. Create
// one with NewQueueStore; it is safe for concurrent use.
//
// Every key of the queue shares the Redis Cluster hash tag {q}, so the
// whole queue of a prefix lives in one slot (one shard of a cluster) and
// a script may pop pairs across queue keys. The key layout is in the
// package documentation. No key has a TTL: an entry leaves only through
// the calls that refund or pair it. It needs Redis 6.2 or later (GETDEL,
// ZPOPMIN with a count).
type QueueStore struct {
	client goredis.UniversalClient
	base   string // <prefix>{q}:
	ready  []string
}

// NewQueueStore returns a QueueStore that keeps its keys under prefix (""
// means DefaultPrefix) in client.
func NewQueueStore(client goredis.UniversalClient, prefix string) *QueueStore {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	base := prefix + "{q}:"
	return &QueueStore{client: client, base: base, ready: []string{base + "ready"}}
}

// Ping checks that Redis answers.
func (s *QueueStore) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return storeError("ping", err)
	}
	return nil
}

// Script statuses of the queue scripts, besides statusOK and the Codes of
// matchmaking errors.
const (
	queueStatusExists = "EXISTS" // queue_reserve.lua
	queueStatusNone   = "NONE"   // queue_get.lua, queue_remove.lua
	queueStatusKept   = "KEPT"   // queue_remove.lua
)

// run runs a queue script and returns its reply, whose first element is
// its status; the status QUEUE_ENTRY_GONE is returned as
// matchmaking.ErrEntryGone.
func (s *QueueStore) run(ctx context.Context, what string, script *goredis.Script, args ...any) (string, []any, error) {
	res, err := script.Run(ctx, s.client, s.ready, args...).Slice()
	if err != nil {
		return "", nil, storeError(what, err)
	}
	if len(res) == 0 {
		return "", nil, errMalformed(what+" reply", res)
	}
	status, _ := res[0].(string)
	switch status {
	case statusOK, queueStatusExists, queueStatusNone, queueStatusKept:
		return status, res, nil
	case matchmaking.ErrEntryGone.Code:
		return status, nil, matchmaking.ErrEntryGone
	}
	return "", nil, errMalformed(what+" status", res[0])
}

// Reserve implements matchmaking.Store. JoinedAt is kept to the
// millisecond.
func (s *QueueStore) Reserve(ctx context.Context, e matchmaking.Entry) (matchmaking.Entry, bool, error) {
	status, res, err := s.run(ctx, "reserve queue entry", queueReserveScript, e.UserID, e.QueueKey, e.DebitKey, e.JoinedAt.UnixMilli())
	if err != nil {
		return matchmaking.Entry{}, false, err
	}
	got, _, err := decodeQueueEntry(res, 1)
	return got, status == statusOK, err
}

// Activate implements matchmaking.Store.
func (s *QueueStore) Activate(ctx context.Context, userID, debitKey string) (matchmaking.Entry, int, error) {
	_, res, err := s.run(ctx, "activate queue entry", queueActivateScript, userID, debitKey)
	if err != nil {
		return matchmaking.Entry{}, 0, err
	}
	return decodeQueueEntry(res, 1)
}

// Discard implements matchmaking.Store.
func (s *QueueStore) Discard(ctx context.Context, userID, debitKey string) (bool, error) {
	_, res, err := s.run(ctx, "discard queue entry", queueDiscardScript, userID, debitKey)
	if err != nil {
		return false, err
	}
	return replyInt(res, 1) == 1, nil
}

// Get implements matchmaking.Store.
func (s *QueueStore) Get(ctx context.Context, userID string) (matchmaking.Entry, int, bool, error) {
	status, res, err := s.run(ctx, "read queue entry", queueGetScript, userID)
	if err != nil || status == queueStatusNone {
		return matchmaking.Entry{}, 0, false, err
	}
	e, pos, err := decodeQueueEntry(res, 1)
	return e, pos, err == nil, err
}

// Remove implements matchmaking.Store.
func (s *QueueStore) Remove(ctx context.Context, userID string) (matchmaking.Entry, bool, error) {
	status, res, err := s.run(ctx, "remove queue entry", queueRemoveScript, userID)
	if err != nil || status == queueStatusNone {
		return matchmaking.Entry{}, false, err
	}
	e, _, err := decodeQueueEntry(res, 1)
	return e, err == nil && status == statusOK, err
}

// StaleJoins implements matchmaking.Store.
func (s *QueueStore) StaleJoins(ctx context.Context, before time.Time, limit int) ([]matchmaking.Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	_, res, err := s.run(ctx, "list stale joins", queueStaleJoinsScript, before.UnixMilli(), limit)
	if err != nil {
		return nil, err
	}
	list, err := replyList(res, 1)
	if err != nil {
		return nil, err
	}
	out := make([]matchmaking.Entry, 0, len(list))
	for _, item := range list {
		e, _, err := decodeQueueEntry([]any{item}, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// PopPairs implements matchmaking.Store: one script call pops every pair.
// MatchedAt is now, to the millisecond; the lease is rounded up to whole
// milliseconds.
func (s *QueueStore) PopPairs(ctx context.Context, sessionIDs []string, now time.Time, lease time.Duration) ([]matchmaking.Pair, error) {
	if len(sessionIDs) == 0 {
		return nil, nil
	}
	at := now.UnixMilli()
	args := make([]any, 0, len(sessionIDs)+2)
	args = append(args, at, at+leaseMillis(lease))
	for _, id := range sessionIDs {
		args = append(args, id)
	}
	_, res, err := s.run(ctx, "pop pairs", queuePopScript, args...)
	if err != nil {
		return nil, err
	}
	return decodePairs(res)
}

// ClaimStalePairs implements matchmaking.Store. Pairs come earliest lease
// end first.
func (s *QueueStore) ClaimStalePairs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]matchmaking.Pair, error) {
	if limit <= 0 {
		return nil, nil
	}
	at := now.UnixMilli()
	_, res, err := s.run(ctx, "claim stale pairs", queueClaimScript, at, at+leaseMillis(lease), limit)
	if err != nil {
		return nil, err
	}
	return decodePairs(res)
}

// AckPair implements matchmaking.Store.
func (s *QueueStore) AckPair(ctx context.Context, sessionID string) error {
	_, _, err := s.run(ctx, "ack pair", queueAckScript, sessionID)
	return err
}

// Waiting implements matchmaking.Store.
func (s *QueueStore) Waiting(ctx context.Context) (int, error) {
	n, err := s.client.Get(ctx, s.base+"waiting").Int()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, storeError("count waiting users", err)
	}
	return n, nil
}

// TouchSocket implements matchmaking.Store.
func (s *QueueStore) TouchSocket(ctx context.Context, userID, socketID string, expires time.Time) error {
	if err := s.client.HSet(ctx, s.base+"p:"+userID, socketID, expires.UnixMilli()).Err(); err != nil {
		return storeError("touch queue socket", err)
	}
	return nil
}

// DropSocket implements matchmaking.Store. It also forgets the user's
// sockets that expired.
func (s *QueueStore) DropSocket(ctx context.Context, userID, socketID string, now time.Time) (int, error) {
	_, res, err := s.run(ctx, "drop queue socket", queueDropSocketScript, userID, socketID, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return replyInt(res, 1), nil
}

// LiveSockets implements matchmaking.Store.
func (s *QueueStore) LiveSockets(ctx context.Context, userID string, now time.Time) (int, error) {
	h, err := s.client.HGetAll(ctx, s.base+"p:"+userID).Result()
	if err != nil {
		return 0, storeError("read queue sockets", err)
	}
	at := now.UnixMilli()
	n := 0
	for _, v := range h {
		if exp, err := strconv.ParseInt(v, 10, 64); err == nil && exp > at {
			n++
		}
	}
	return n, nil
}

// PutNotice implements matchmaking.Store.
func (s *QueueStore) PutNotice(ctx context.Context, userID string, n matchmaking.Notice) error {
	b, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("redis: encode notice: %w", err)
	}
	if err := s.client.Set(ctx, s.base+"n:"+userID, b, 0).Err(); err != nil {
		return storeError("put notice", err)
	}
	return nil
}

// TakeNotice implements matchmaking.Store.
func (s *QueueStore) TakeNotice(ctx context.Context, userID string) (matchmaking.Notice, bool, error) {
	b, err := s.client.GetDel(ctx, s.base+"n:"+userID).Bytes()
	if errors.Is(err, goredis.Nil) {
		return matchmaking.Notice{}, false, nil
	}
	if err != nil {
		return matchmaking.Notice{}, false, storeError("take notice", err)
	}
	var n matchmaking.Notice
	if err := json.Unmarshal(b, &n); err != nil {
		return matchmaking.Notice{}, false, fmt.Errorf("redis: malformed notice: %w", err)
	}
	return n, true, nil
}

func leaseMillis(d time.Duration) int64 {
	ms := d.Milliseconds()
	if d%time.Millisecond > 0 {
		ms++
	}
	return ms
}

func replyInt(res []any, i int) int {
	if i >= len(res) {
		return 0
	}
	n, _ := res[i].(int64)
	return int(n)
}

func replyList(res []any, i int) ([]any, error) {
	if i >= len(res) {
		return nil, errMalformed("reply", res)
	}
	list, ok := res[i].([]any)
	if !ok {
		return nil, errMalformed("list", res[i])
	}
	return list, nil
}

// decodeQueueEntry decodes res[i], an entry {userId, queueKey, debitKey,
// state, sessionId, joinedAt, position}.
func decodeQueueEntry(res []any, i int) (matchmaking.Entry, int, error) {
	f, err := replyList(res, i)
	if err != nil || len(f) != 7 {
		return matchmaking.Entry{}, 0, errMalformed("queue entry", res)
	}
	var s [6]string
	for j := range s {
		v, ok := f[j].(string)
		if !ok {
			return matchmaking.Entry{}, 0, errMalformed("queue entry", f)
		}
		s[j] = v
	}
	pos, ok := f[6].(int64)
	joined, err := strconv.ParseInt(s[5], 10, 64)
	if !ok || err != nil {
		return matchmaking.Entry{}, 0, errMalformed("queue entry", f)
	}
	return matchmaking.Entry{
		UserID:    s[0],
		QueueKey:  s[1],
		DebitKey:  s[2],
		State:     matchmaking.EntryState(s[3]),
		SessionID: s[4],
		JoinedAt:  time.UnixMilli(joined).UTC(),
	}, int(pos), nil
}

// decodePairs decodes res[1], a list of pairs, each the JSON array
// [sessionId, queueKey, matchedAt, user1, debit1, joined1, user2, debit2,
// joined2] of strings.
func decodePairs(res []any) ([]matchmaking.Pair, error) {
	list, err := replyList(res, 1)
	if err != nil {
		return nil, err
	}
	pairs := make([]matchmaking.Pair, 0, len(list))
	for _, item := range list {
		raw, ok := item.(string)
		var s []string
		if !ok || json.Unmarshal([]byte(raw), &s) != nil || len(s) != 9 {
			return nil, errMalformed("pair", item)
		}
		var ms [3]int64
		for j, k := range []int{2, 5, 8} {
			if ms[j], err = strconv.ParseInt(s[k], 10, 64); err != nil {
				return nil, errMalformed("pair", item)
			}
		}
		pairs = append(pairs, matchmaking.Pair{
			SessionID: s[0],
			QueueKey:  s[1],
			MatchedAt: time.UnixMilli(ms[0]).UTC(),
			Members: [2]matchmaking.Member{
				{UserID: s[3], DebitKey: s[4], JoinedAt: time.UnixMilli(ms[1]).UTC()},
				{UserID: s[6], DebitKey: s[7], JoinedAt: time.UnixMilli(ms[2]).UTC()},
			},
		})
	}
	return pairs, nil
}
