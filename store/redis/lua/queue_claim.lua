-- Re-leases pending pairs whose lease ended.
--
-- ARGV[1]  now, unix milliseconds
-- ARGV[2]  new lease end, unix milliseconds
-- ARGV[3]  limit
--
-- Returns {'OK', {pair, ...}}, each pair the JSON kept in <base>pairs.

local pairs_key = base .. 'pairs'
local leases_key = base .. 'leases'
local sids = redis.call('zrangebyscore', leases_key, '-inf', ARGV[1], 'limit', 0, tonumber(ARGV[3]))
local out = {}
for _, sid in ipairs(sids) do
    local rec = redis.call('hget', pairs_key, sid)
    if rec then
        redis.call('zadd', leases_key, ARGV[2], sid)
        out[#out + 1] = rec
    else
        redis.call('zrem', leases_key, sid)
    end
end
return {'OK', out}
