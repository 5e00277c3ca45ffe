-- Makes another member host on behalf of the current host.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  TTL in milliseconds
-- ARGV[2]  now, unix milliseconds (updatedAt)
-- ARGV[3]  hostId, the caller
-- ARGV[4]  newHostId
--
-- Returns {'OK', room hash as HGETALL} or {'ROOM_NOT_FOUND'},
-- {'NOT_HOST'}, {'ALREADY_HOST'}, {'MEMBER_NOT_FOUND'}.

local ttl = ARGV[1]
local host_id = ARGV[3]
local new_host_id = ARGV[4]

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_host(KEYS[1], host_id) then
    return {'NOT_HOST'}
end
if new_host_id == host_id then
    return {'ALREADY_HOST'}
end
if not is_member(KEYS[2], new_host_id) then
    return {'MEMBER_NOT_FOUND'}
end

redis.call('hset', KEYS[1], 'hostId', new_host_id, 'updatedAt', ARGV[2])

touch(KEYS[1], KEYS[2], ttl)
return {'OK', redis.call('hgetall', KEYS[1])}
