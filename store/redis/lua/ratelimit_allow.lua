-- Counts one hit in a fixed window that starts at the key's first hit.
--
-- KEYS[1]  counter, <prefix>ratelimit:<key>
-- ARGV[1]  window in milliseconds
--
-- Returns {count, ttl}: the hits counted in the current window, this one
-- included, and the milliseconds left until the window ends.

local window = ARGV[1]

local count = redis.call('incr', KEYS[1])
if count == 1 then
    redis.call('pexpire', KEYS[1], window)
end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then
    -- A counter without expiry would refuse the key forever.
    redis.call('pexpire', KEYS[1], window)
    ttl = tonumber(window)
end
return {count, ttl}
