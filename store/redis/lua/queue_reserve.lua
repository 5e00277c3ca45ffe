-- Creates a joining entry unless the user has an entry.
--
-- ARGV[1]  userId
-- ARGV[2]  queue key
-- ARGV[3]  debit key
-- ARGV[4]  joined, unix milliseconds
--
-- Returns {'OK', entry} or {'EXISTS', the existing entry}.

local user_id = ARGV[1]
local old = entry(user_id)
if old then
    return {'EXISTS', old}
end
redis.call('hset', entry_key(user_id),
    'key', ARGV[2],
    'debit', ARGV[3],
    'state', 'joining',
    'session', '',
    'joined', ARGV[4])
redis.call('zadd', base .. 'joining', ARGV[4], user_id)
return {'OK', entry(user_id)}
