-- Adds delta to a member's open socket count, never going below zero.
-- Nothing changes when the room or the member does not exist.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  TTL in milliseconds
-- ARGV[2]  userId
-- ARGV[3]  delta
--
-- Returns {'OK', member hash as HGETALL with 'sockets' = presence entries} or {'ROOM_NOT_FOUND'},
-- {'MEMBER_NOT_FOUND'}.

local ttl = ARGV[1]
local user_id = ARGV[2]

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_member(KEYS[2], user_id) then
    return {'MEMBER_NOT_FOUND'}
end

local key = member_key(KEYS[1], user_id)
if redis.call('hincrby', key, 'conns', ARGV[3]) < 0 then
    redis.call('hset', key, 'conns', 0)
end

touch(KEYS[1], KEYS[2], ttl)
return {'OK', with_sockets(redis.call('hgetall', key), presence_counts(KEYS[1], '-inf')[user_id])}
