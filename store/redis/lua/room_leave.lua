-- Removes a member. The room is deleted when the last member leaves, or
-- when the host leaves and close_on_host_leave is set; otherwise a leaving
-- host is succeeded by the longest-present member (lowest join sequence).
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  TTL in milliseconds
-- ARGV[2]  now, unix milliseconds (updatedAt)
-- ARGV[3]  userId
-- ARGV[4]  close_on_host_leave, "0" or "1"
-- ARGV[5]  how long a deleted room is remembered as closed after its TTL
--          would have run out, in milliseconds
--
-- Returns {'OK', room hash as HGETALL, host_changed (0 or 1)},
-- {'CLOSED'}, {'ROOM_NOT_FOUND'} or {'MEMBER_NOT_FOUND'}.

local ttl = ARGV[1]
local now = ARGV[2]
local user_id = ARGV[3]

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_member(KEYS[2], user_id) then
    return {'MEMBER_NOT_FOUND'}
end

local was_host = is_host(KEYS[1], user_id)
if redis.call('zcard', KEYS[2]) == 1 or (was_host and ARGV[4] == '1') then
    close_room(KEYS[1], KEYS[2], ARGV[5])
    return {'CLOSED'}
end

redis.call('zrem', KEYS[2], user_id)
redis.call('del', member_key(KEYS[1], user_id))
roster_rebuild(KEYS[1], KEYS[2])
local host_changed = 0
if was_host then
    local next_host = redis.call('zrange', KEYS[2], 0, 0)[1]
    redis.call('hset', KEYS[1], 'hostId', next_host)
    host_changed = 1
end
redis.call('hset', KEYS[1], 'updatedAt', now)

touch(KEYS[1], KEYS[2], ttl)
return {'OK', redis.call('hgetall', KEYS[1]), host_changed}
