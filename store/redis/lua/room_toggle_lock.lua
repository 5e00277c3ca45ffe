-- Flips isLocked on behalf of the host.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  TTL in milliseconds
-- ARGV[2]  now, unix milliseconds (updatedAt)
-- ARGV[3]  hostId, the caller
--
-- Returns {'OK', room hash as HGETALL} or {'ROOM_NOT_FOUND'}, {'NOT_HOST'}.

local ttl = ARGV[1]

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_host(KEYS[1], ARGV[3]) then
    return {'NOT_HOST'}
end

local locked = '1'
if redis.call('hget', KEYS[1], 'isLocked') == '1' then
    locked = '0'
end
redis.call('hset', KEYS[1], 'isLocked', locked, 'updatedAt', ARGV[2])

touch(KEYS[1], KEYS[2], ttl)
return {'OK', redis.call('hgetall', KEYS[1])}
