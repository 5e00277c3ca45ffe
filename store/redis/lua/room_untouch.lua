-- Removes the presence entry of one socket. When the user has no live
-- entry left, the user's expired entries are removed too, so that a sweep
-- does not report the user again.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  now, unix milliseconds
-- ARGV[2]  userId
-- ARGV[3]  socketId
--
-- Returns {'OK', last (1 when the user has no live entry left)} or
-- {'ROOM_NOT_FOUND'}.

local now = tonumber(ARGV[1])
local user_id = ARGV[2]

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end

redis.call('zrem', presence_key(KEYS[1]), user_id .. '|' .. ARGV[3])
if (presence_counts(KEYS[1], now)[user_id] or 0) > 0 then
    return {'OK', 0}
end
drop_expired(KEYS[1], user_id, now)
return {'OK', 1}
