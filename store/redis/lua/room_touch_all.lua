-- Registers or refreshes the presence entries of several sockets of one
-- room, each as room_touch.lua would, in order: the batch form of Touch
-- (RoomStore.TouchAll). The room's presence entries are read once for the
-- whole batch, not once per entry. The room's TTL is not renewed: the
-- presence zset gets the room hash's remaining TTL.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  now, unix milliseconds
-- ARGV[2]  presence TTL in milliseconds
-- ARGV[3], ARGV[4], ...  userId, socketId of each entry
--
-- Returns {'OK', hostId, {ok, first, sockets, displayName, joinedAt, ...}}
-- (five values per entry: ok is 0 when the user is not a member, and
-- the entry was not written; first is 1 when the member had no live
-- entry before; sockets counts its live entries after) or
-- {'ROOM_NOT_FOUND'}.

local now = tonumber(ARGV[1])
local expiry = now + tonumber(ARGV[2])

local host = redis.call('hget', KEYS[1], 'hostId')
if not host then
    return {'ROOM_NOT_FOUND'}
end

local key = presence_key(KEYS[1])
local counts = presence_counts(KEYS[1], now)
-- The expired entries, by user: each touched member's are dropped.
local expired = {}
for _, e in ipairs(redis.call('zrangebyscore', key, '-inf', now)) do
    local id = presence_user(e)
    local list = expired[id]
    if list == nil then
        list = {}
        expired[id] = list
    end
    list[#list + 1] = e
end

local out = {}
for i = 3, #ARGV, 2 do
    local user_id = ARGV[i]
    if is_member(KEYS[2], user_id) then
        local entry = user_id .. '|' .. ARGV[i + 1]
        local first = 0
        if (counts[user_id] or 0) == 0 then
            first = 1
        end
        local list = expired[user_id]
        if list ~= nil then
            redis.call('zrem', key, unpack(list))
            expired[user_id] = nil
        end
        -- A live entry of this socket is renewed and counted already; any
        -- other is a new live entry.
        if not redis.call('zscore', key, entry) then
            counts[user_id] = (counts[user_id] or 0) + 1
        end
        redis.call('zadd', key, expiry, entry)
        local m = redis.call('hmget', member_key(KEYS[1], user_id), 'displayName', 'joinedAt')
        out[#out + 1] = 1
        out[#out + 1] = first
        out[#out + 1] = counts[user_id]
        out[#out + 1] = m[1] or ''
        out[#out + 1] = m[2] or '0'
    else
        out[#out + 1] = 0
        out[#out + 1] = 0
        out[#out + 1] = 0
        out[#out + 1] = ''
        out[#out + 1] = '0'
    end
end

local left = redis.call('pttl', KEYS[1])
if left > 0 then
    redis.call('pexpire', key, left)
end
return {'OK', host, out}
