-- Reads what a socket connecting to a room needs, provided its user is a
-- member: the room and every member with its live presence entries, in
-- one call (Member, Room and MembersAt would be three). Writes nothing.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  userId
-- ARGV[2]  now, unix milliseconds: 'sockets' counts the entries live then
--
-- Returns {'OK', room hash as HGETALL, {id, displayName, joinedAt, sockets,
-- id, ...}} (four values per member, longest-present first) or
-- {'ROOM_NOT_FOUND'}, {'MEMBER_NOT_FOUND'}.

local room = redis.call('hgetall', KEYS[1])
if #room == 0 then
    return {'ROOM_NOT_FOUND'}
end
if not is_member(KEYS[2], ARGV[1]) then
    return {'MEMBER_NOT_FOUND'}
end

local counts = presence_counts(KEYS[1], ARGV[2])
local members = {}
local ids = redis.call('zrange', KEYS[2], 0, -1)
for _, id in ipairs(ids) do
    local m = redis.call('hmget', member_key(KEYS[1], id), 'displayName', 'joinedAt')
    if m[2] then
        members[#members + 1] = id
        members[#members + 1] = m[1] or ''
        members[#members + 1] = m[2]
        members[#members + 1] = counts[id] or 0
    end
end
return {'OK', room, members}
