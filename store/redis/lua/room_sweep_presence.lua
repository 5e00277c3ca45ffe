-- Removes the presence entries that expired at or before now and lists the
-- members whose last entry was among them, each once. Being one script, two
-- sweeps never both remove (and so report) the same entries.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  now, unix milliseconds
--
-- Returns {'OK', roomGone (1 when the room does not exist), {userId, ...}}.

local now = tonumber(ARGV[1])
local key = presence_key(KEYS[1])

if redis.call('exists', KEYS[1]) == 0 then
    redis.call('del', key)
    return {'OK', 1, {}}
end

local expired = redis.call('zrangebyscore', key, '-inf', now)
if #expired == 0 then
    return {'OK', 0, {}}
end
redis.call('zremrangebyscore', key, '-inf', now)

local remaining = presence_counts(KEYS[1], '-inf')
local seen = {}
local vanished = {}
for _, e in ipairs(expired) do
    local id = presence_user(e)
    if not seen[id] then
        seen[id] = true
        if remaining[id] == nil and is_member(KEYS[2], id) then
            vanished[#vanished + 1] = id
        end
    end
end
table.sort(vanished)
return {'OK', 0, vanished}
