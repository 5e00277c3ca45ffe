-- Removes a member on behalf of the host.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  TTL in milliseconds
-- ARGV[2]  now, unix milliseconds (updatedAt)
-- ARGV[3]  hostId, the caller
-- ARGV[4]  userId, the member to remove
--
-- Returns {'OK', room hash as HGETALL} or {'ROOM_NOT_FOUND'},
-- {'NOT_HOST'}, {'CANNOT_KICK_SELF'}, {'MEMBER_NOT_FOUND'}.

local ttl = ARGV[1]
local host_id = ARGV[3]
local user_id = ARGV[4]

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_host(KEYS[1], host_id) then
    return {'NOT_HOST'}
end
if user_id == host_id then
    return {'CANNOT_KICK_SELF'}
end
if not is_member(KEYS[2], user_id) then
    return {'MEMBER_NOT_FOUND'}
end

redis.call('zrem', KEYS[2], user_id)
redis.call('del', member_key(KEYS[1], user_id))
roster_rebuild(KEYS[1], KEYS[2])
redis.call('hset', KEYS[1], 'updatedAt', ARGV[2])

touch(KEYS[1], KEYS[2], ttl)
return {'OK', redis.call('hgetall', KEYS[1])}
