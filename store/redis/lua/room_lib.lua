-- Helpers shared by the room scripts: room.go prepends this file to each
-- of them, so that the rule "every write re-applies the TTL to every key of
-- the room" lives in one place.
--
-- Key layout (see doc.go), for a room with code CODE:
--   KEYS[1]                        <prefix>room:{CODE}              room hash
--   KEYS[2]                        <prefix>room:{CODE}:users        member zset, score = join sequence
--   KEYS[1] .. ':user:' .. userId  <prefix>room:{CODE}:user:<id>    member hash
--   KEYS[1] .. ':closed'           <prefix>room:{CODE}:closed       "1" while a closed room is remembered
--   KEYS[1] .. ':presence'         <prefix>room:{CODE}:presence     presence zset, member "<userId>|<socketId>",
--                                                                   score = expiry in unix milliseconds
--   KEYS[1] .. ':roster'           <prefix>room:{CODE}:roster       string: every member's id, displayName and
--                                                                   joinedAt in join order (roster_entry), kept
--                                                                   by the scripts that change the membership
-- The member keys are derived here rather than passed in KEYS; the {CODE}
-- hash tag puts them in the same Redis Cluster slot as KEYS[1].
--
-- Every script returns a table whose first element is a status: 'OK',
-- 'CLOSED' (leave.lua), or the Code of a rooms error such as 'ROOM_FULL'.

local function member_key(room_key, user_id)
    return room_key .. ':user:' .. user_id
end

-- presence_key is the key of the room's presence zset.
local function presence_key(room_key)
    return room_key .. ':presence'
end

-- roster_key is the key of the room's roster: the member hashes' fields
-- the connect step needs, for every member, in one string, so that a
-- socket's admission reads one key instead of one hash per member.
local function roster_key(room_key)
    return room_key .. ':roster'
end

-- roster_entry encodes one member for the roster: each field as
-- <byte length>:<bytes>, so that any display name round-trips.
local function roster_entry(id, name, joined_at)
    return #id .. ':' .. id .. #name .. ':' .. name .. #joined_at .. ':' .. joined_at
end

-- roster_of builds the roster from the member hashes.
local function roster_of(room_key, users_key)
    local parts = {}
    for _, id in ipairs(redis.call('zrange', users_key, 0, -1)) do
        local m = redis.call('hmget', member_key(room_key, id), 'displayName', 'joinedAt')
        if m[2] then
            parts[#parts + 1] = roster_entry(id, m[1] or '', m[2])
        end
    end
    return table.concat(parts)
end

-- roster_rebuild rewrites the roster after the membership changed (its
-- TTL is set again by touch, which every writing script ends with).
local function roster_rebuild(room_key, users_key)
    redis.call('set', roster_key(room_key), roster_of(room_key, users_key))
end

-- roster_read returns the roster, built from the member hashes when the
-- room predates it.
local function roster_read(room_key, users_key)
    local r = redis.call('get', roster_key(room_key))
    if r then
        return r
    end
    return roster_of(room_key, users_key)
end

-- touch sets the TTL (milliseconds) of the room hash, the member zset and
-- every member hash.
local function touch(room_key, users_key, ttl)
    redis.call('pexpire', room_key, ttl)
    redis.call('pexpire', users_key, ttl)
    local ids = redis.call('zrange', users_key, 0, -1)
    for _, id in ipairs(ids) do
        redis.call('pexpire', member_key(room_key, id), ttl)
    end
    redis.call('pexpire', presence_key(room_key), ttl)
    redis.call('pexpire', roster_key(room_key), ttl)
end

-- destroy deletes every key of the room.
local function destroy(room_key, users_key)
    local ids = redis.call('zrange', users_key, 0, -1)
    for _, id in ipairs(ids) do
        redis.call('del', member_key(room_key, id))
    end
    redis.call('del', room_key, users_key, presence_key(room_key), roster_key(room_key))
end

-- closed_key is the key that remembers a closed room.
local function closed_key(room_key)
    return room_key .. ':closed'
end

-- close_room deletes every key of the room and remembers the room as
-- closed until grace milliseconds after its TTL would have run out, so
-- that its expiry job does not announce EXPIRED.
local function close_room(room_key, users_key, grace)
    local left = redis.call('pttl', room_key)
    if left < 0 then
        left = 0
    end
    destroy(room_key, users_key)
    redis.call('set', closed_key(room_key), '1', 'px', left + tonumber(grace))
end

-- is_host reports whether user_id is the room's host.
local function is_host(room_key, user_id)
    return redis.call('hget', room_key, 'hostId') == user_id
end

-- is_member reports whether user_id is a member of the room.
local function is_member(users_key, user_id)
    return redis.call('zscore', users_key, user_id) ~= false
end

-- presence_user returns the userId of a presence entry "<userId>|<socketId>".
local function presence_user(entry)
    local bar = string.find(entry, '|', 1, true)
    if bar == nil then
        return entry
    end
    return string.sub(entry, 1, bar - 1)
end

-- presence_counts returns, per userId, the number of entries of the
-- presence zset whose expiry is after min_exclusive ('-inf' counts all).
local function presence_counts(room_key, min_exclusive)
    local counts = {}
    local low = min_exclusive
    if low ~= '-inf' then
        low = '(' .. min_exclusive
    end
    local entries = redis.call('zrangebyscore', presence_key(room_key), low, '+inf')
    for _, e in ipairs(entries) do
        local id = presence_user(e)
        counts[id] = (counts[id] or 0) + 1
    end
    return counts
end

-- drop_expired removes user_id's entries whose expiry is at or before now.
local function drop_expired(room_key, user_id, now)
    local key = presence_key(room_key)
    local entries = redis.call('zrangebyscore', key, '-inf', now)
    for _, e in ipairs(entries) do
        if presence_user(e) == user_id then
            redis.call('zrem', key, e)
        end
    end
end

-- with_sockets appends the field 'sockets' = n to a member hash read with
-- HGETALL.
local function with_sockets(member, n)
    member[#member + 1] = 'sockets'
    member[#member + 1] = tostring(n or 0)
    return member
end
