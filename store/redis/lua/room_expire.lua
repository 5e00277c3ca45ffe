-- Ends a room whose TTL has run out, for its expiry job.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  TTL in milliseconds, re-applied to a live room whose hash has
--          no TTL
--
-- Returns {'OK', milliseconds until the room expires} for a live room,
-- {'CLOSED'} for a room remembered as closed, or {'EXPIRED'} once whatever
-- keys of the room remained are deleted.

if redis.call('exists', KEYS[1]) == 1 then
    local left = redis.call('pttl', KEYS[1])
    if left < 0 then
        touch(KEYS[1], KEYS[2], ARGV[1])
        left = tonumber(ARGV[1])
    end
    return {'OK', left}
end
if redis.call('exists', closed_key(KEYS[1])) == 1 then
    return {'CLOSED'}
end
destroy(KEYS[1], KEYS[2])
return {'EXPIRED'}
