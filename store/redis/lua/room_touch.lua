-- Registers or refreshes the presence entry of one socket of a member, and
-- drops the member's expired entries. The room's TTL is not renewed: the
-- presence zset gets the room hash's remaining TTL.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  now, unix milliseconds
-- ARGV[2]  userId
-- ARGV[3]  socketId
-- ARGV[4]  presence TTL in milliseconds
--
-- Returns {'OK', member hash as HGETALL with 'sockets' = live entries,
-- first (1 when the member had no live entry before)} or
-- {'ROOM_NOT_FOUND'}, {'MEMBER_NOT_FOUND'}.

local now = tonumber(ARGV[1])
local user_id = ARGV[2]

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_member(KEYS[2], user_id) then
    return {'MEMBER_NOT_FOUND'}
end

local key = presence_key(KEYS[1])
local first = 0
if (presence_counts(KEYS[1], now)[user_id] or 0) == 0 then
    first = 1
end
drop_expired(KEYS[1], user_id, now)
redis.call('zadd', key, now + tonumber(ARGV[4]), user_id .. '|' .. ARGV[3])
local left = redis.call('pttl', KEYS[1])
if left > 0 then
    redis.call('pexpire', key, left)
end

local member = redis.call('hgetall', member_key(KEYS[1], user_id))
return {'OK', with_sockets(member, presence_counts(KEYS[1], now)[user_id]), first}
