-- Reads every member of a room, longest-present first. Writes nothing.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
--
-- Returns {'OK', {member hash as HGETALL, ...}} or {'ROOM_NOT_FOUND'}.

if redis.call('exists', KEYS[1]) == 0 then
    return {'ROOM_NOT_FOUND'}
end

local members = {}
local ids = redis.call('zrange', KEYS[2], 0, -1)
for _, id in ipairs(ids) do
    local member = redis.call('hgetall', member_key(KEYS[1], id))
    if #member > 0 then
        members[#members + 1] = member
    end
end
return {'OK', members}
