-- Helpers shared by the queue scripts: queue.go prepends this file to each
-- of them.
--
-- Key layout (see doc.go). KEYS[1] is always <prefix>{q}:ready, and the
-- other keys are derived from its base <prefix>{q}: here rather than
-- passed in KEYS; the {q} hash tag puts them all in one Redis Cluster
-- slot, so one script may touch any of them.
--   <base>ready            set: queue keys with two or more waiting users
--   <base>seq              string: the last join sequence number
--   <base>waiting          string: the number of waiting entries
--   <base>e:<userId>       hash: key, debit, state, session, joined (ms)
--   <base>k:<queueKey>     sorted set: waiting user ids, score = join sequence
--   <base>joining          sorted set: joining user ids, score = joined (ms)
--   <base>pairs            hash: session id -> pending pair, as JSON
--                          [sessionId, queueKey, matchedAt, user1, debit1,
--                           joined1, user2, debit2, joined2]
--   <base>leases           sorted set: pending session ids, score = lease end (ms)
--   <base>p:<userId>       hash: socket id -> expiry (ms)
--   <base>n:<userId>       string: the user's notice, as JSON
--
-- Scripts answer with a table whose first element is a status: 'OK', or
-- another word the script documents, or the Code of a matchmaking error.

local ready_key = KEYS[1]
local base = string.sub(ready_key, 1, #ready_key - 5)

local function entry_key(user_id)
    return base .. 'e:' .. user_id
end

local function queue_key(qk)
    return base .. 'k:' .. qk
end

-- refresh_ready keeps qk in the ready set exactly while two or more users
-- wait under it.
local function refresh_ready(qk)
    if redis.call('zcard', queue_key(qk)) >= 2 then
        redis.call('sadd', ready_key, qk)
    else
        redis.call('srem', ready_key, qk)
    end
end

-- entry returns user_id's entry as {userId, queueKey, debitKey, state,
-- sessionId, joinedAt, position}, or nil when there is none.
local function entry(user_id)
    local f = redis.call('hmget', entry_key(user_id), 'key', 'debit', 'state', 'session', 'joined')
    if not f[3] then
        return nil
    end
    local pos = 0
    if f[3] == 'waiting' then
        pos = redis.call('zrank', queue_key(f[1]), user_id) or 0
    end
    return {user_id, f[1], f[2] or '', f[3], f[4] or '', f[5] or '0', pos}
end
