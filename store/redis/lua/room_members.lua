-- Reads every member of a room, longest-present first. Writes nothing.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  optional: now, unix milliseconds; 'sockets' then counts the
--          entries live at now, else every entry
--
-- Returns {'OK', {member hash as HGETALL with 'sockets', ...}} or {'ROOM_NOT_FOUND'}.

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end

local counts = presence_counts(KEYS[1], ARGV[1] or '-inf')
local members = {}
local ids = redis.call('zrange', KEYS[2], 0, -1)
for _, id in ipairs(ids) do
    local member = redis.call('hgetall', member_key(KEYS[1], id))
    if #member > 0 then
        members[#members + 1] = with_sockets(member, counts[id])
    end
end
return {'OK', members}
