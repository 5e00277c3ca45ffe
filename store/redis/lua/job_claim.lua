-- Claims up to a limit of jobs claimable at now: due, and unclaimed or
-- with an ended lease. Each gets the token ARGV[4] .. ':' .. its index in
-- this claim, one more attempt, and the lease ARGV[2], which becomes its
-- score.
--
-- KEYS[1]  due set
-- ARGV[1]  now, unix milliseconds
-- ARGV[2]  lease end, unix milliseconds
-- ARGV[3]  limit
-- ARGV[4]  token prefix, unique per call
--
-- Returns a list of {key, kind, due, payload, attempt, token}, earliest
-- claimable first.

local keys = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i, key in ipairs(keys) do
    local jk = job_key(KEYS[1], key)
    local h = redis.call('hmget', jk, 'kind', 'due', 'payload', 'attempt')
    if h[1] == false then
        -- A member without its hash cannot be run: drop it.
        redis.call('zrem', KEYS[1], key)
    else
        local attempt = (tonumber(h[4]) or 0) + 1
        local token = ARGV[4] .. ':' .. i
        redis.call('hset', jk, 'attempt', attempt, 'token', token, 'lease', ARGV[2])
        redis.call('zadd', KEYS[1], ARGV[2], key)
        out[#out + 1] = {key, h[1], h[2], h[3], attempt, token}
    end
end
return out
