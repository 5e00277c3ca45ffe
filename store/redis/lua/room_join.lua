-- Adds a member to a room, checking existence, lock and capacity in the
-- same step. A user who is already a member keeps their place; only the
-- TTL is renewed.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  TTL in milliseconds
-- ARGV[2]  now, unix milliseconds (joinedAt and updatedAt)
-- ARGV[3]  userId
-- ARGV[4]  displayName
--
-- Returns {'OK', room hash as HGETALL} or {'ROOM_NOT_FOUND'},
-- {'ROOM_LOCKED'}, {'ROOM_FULL'}.

local ttl = ARGV[1]
local now = ARGV[2]
local user_id = ARGV[3]

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end

if not is_member(KEYS[2], user_id) then
    local room = redis.call('hmget', KEYS[1], 'isLocked', 'maxUsers')
    if room[1] == '1' then
        return {'ROOM_LOCKED'}
    end
    if redis.call('zcard', KEYS[2]) >= tonumber(room[2]) then
        return {'ROOM_FULL'}
    end
    local seq = redis.call('hincrby', KEYS[1], 'seq', 1)
    redis.call('zadd', KEYS[2], seq, user_id)
    redis.call('hset', member_key(KEYS[1], user_id),
        'id', user_id,
        'displayName', ARGV[4],
        'joinedAt', now)
    if redis.call('exists', roster_key(KEYS[1])) == 1 then
        redis.call('append', roster_key(KEYS[1]), roster_entry(user_id, ARGV[4], now))
    else
        roster_rebuild(KEYS[1], KEYS[2]) -- a room older than its roster
    end
    redis.call('hset', KEYS[1], 'updatedAt', now)
end

touch(KEYS[1], KEYS[2], ttl)
return {'OK', redis.call('hgetall', KEYS[1])}
