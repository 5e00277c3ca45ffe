-- Deletes a pending pair and its members' matched entries that still
-- carry its session id.
--
-- ARGV[1]  session id
--
-- Returns {'OK', 1}, or {'OK', 0} when the pair is unknown.

local sid = ARGV[1]
local pairs_key = base .. 'pairs'
local rec = redis.call('hget', pairs_key, sid)
if not rec then
    return {'OK', 0}
end
local p = cjson.decode(rec)
for _, i in ipairs({4, 7}) do
    local key = entry_key(p[i])
    local f = redis.call('hmget', key, 'state', 'session')
    if f[1] == 'matched' and f[2] == sid then
        redis.call('del', key)
    end
end
redis.call('hdel', pairs_key, sid)
redis.call('zrem', base .. 'leases', sid)
return {'OK', 1}
