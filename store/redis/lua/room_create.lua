-- Creates a room with its host as the only member.
--
-- KEYS[1]  room hash
-- KEYS[2]  member zset
-- ARGV[1]  TTL in milliseconds
-- ARGV[2]  code
-- ARGV[3]  hostId
-- ARGV[4]  isLocked, "0" or "1"
-- ARGV[5]  maxUsers
-- ARGV[6]  state
-- ARGV[7]  createdAt, unix milliseconds
-- ARGV[8]  updatedAt, unix milliseconds
-- ARGV[9]  host displayName
-- ARGV[10] host joinedAt, unix milliseconds
--
-- Returns {'OK'} or {'ROOM_CODE_TAKEN'}.

local ttl = ARGV[1]
local host_id = ARGV[3]

if redis.call('exists', KEYS[1]) == 1 then
    return {'ROOM_CODE_TAKEN'}
end
-- Drop whatever a previous room with this code may have left behind,
-- including the memory of its closing.
destroy(KEYS[1], KEYS[2])
redis.call('del', closed_key(KEYS[1]))

redis.call('hset', KEYS[1],
    'code', ARGV[2],
    'hostId', host_id,
    'isLocked', ARGV[4],
    'maxUsers', ARGV[5],
    'state', ARGV[6],
    'createdAt', ARGV[7],
    'updatedAt', ARGV[8],
    'seq', 1)
redis.call('zadd', KEYS[2], 1, host_id)
redis.call('hset', member_key(KEYS[1], host_id),
    'id', host_id,
    'displayName', ARGV[9],
    'joinedAt', ARGV[10])
redis.call('set', roster_key(KEYS[1]), roster_entry(host_id, ARGV[9], ARGV[10]))
touch(KEYS[1], KEYS[2], ttl)
return {'OK'}
