-- Bans a user unless a ban is in force.
--
-- KEYS[1]  <prefix>ban:{<userId>}, holding the ban's until in Unix milliseconds
-- ARGV[1]  until, Unix milliseconds
-- ARGV[2]  now, Unix milliseconds
--
-- Returns {1, until} when it banned, {0, until of the ban in force} when
-- not. The key expires at until (by Redis's clock, PX until - now).
local now = tonumber(ARGV[2])
local cur = redis.call('get', KEYS[1])
if cur then
    local c = tonumber(cur)
    if c and c > now then
        return {0, cur}
    end
end
local ttl = tonumber(ARGV[1]) - now
if ttl <= 0 then
    return redis.error_reply('ERR the ban ends before now')
end
redis.call('set', KEYS[1], ARGV[1], 'px', ttl)
return {1, ARGV[1]}
