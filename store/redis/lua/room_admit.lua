-- Reads what a socket connecting to a room needs, provided its user is a
-- member: the room and every member with its live presence entries, in
-- one call (Member, Room and MembersAt would be three), the members read
-- from the roster (one string) rather than one hash each. Writes nothing.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  userId
-- ARGV[2]  now, unix milliseconds: 'sockets' counts the entries live then
--
-- Returns {'OK', room hash as HGETALL, roster (every member's id,
-- displayName and joinedAt, longest-present first: see roster_entry),
-- {userId, live entries, ...} (members with a live entry only)} or
-- {'ROOM_NOT_FOUND'}, {'MEMBER_NOT_FOUND'}.

local room = redis.call('hgetall', KEYS[1])
if #room == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_member(KEYS[2], ARGV[1]) then
    return {'MEMBER_NOT_FOUND'}
end

local counts = presence_counts(KEYS[1], ARGV[2])
local live = {}
for id, n in pairs(counts) do
    live[#live + 1] = id
    live[#live + 1] = n
end
return {'OK', room, roster_read(KEYS[1], KEYS[2]), live}
