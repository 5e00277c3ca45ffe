-- Reads one member of a room. Writes nothing.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  userId
--
-- Returns {'OK', member hash as HGETALL with 'sockets' = presence entries} or {'ROOM_NOT_FOUND'},
-- {'MEMBER_NOT_FOUND'}.

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_member(KEYS[2], ARGV[1]) then
    return {'MEMBER_NOT_FOUND'}
end
local member = redis.call('hgetall', member_key(KEYS[1], ARGV[1]))
return {'OK', with_sockets(member, presence_counts(KEYS[1], '-inf')[ARGV[1]])}
