-- Moves a joining entry with the given debit key to the back of its
-- queue, keeping the ready set up to date.
--
-- ARGV[1]  userId
-- ARGV[2]  debit key
--
-- Returns {'OK', entry} or {'QUEUE_ENTRY_GONE'}.

local user_id = ARGV[1]
local key = entry_key(user_id)
local f = redis.call('hmget', key, 'state', 'debit', 'key')
if f[1] ~= 'joining' or f[2] ~= ARGV[2] then
    return {'QUEUE_ENTRY_GONE'}
end
local seq = redis.call('incr', base .. 'seq')
redis.call('hset', key, 'state', 'waiting')
redis.call('zrem', base .. 'joining', user_id)
redis.call('zadd', queue_key(f[3]), seq, user_id)
redis.call('incr', base .. 'waiting')
refresh_ready(f[3])
return {'OK', entry(user_id)}
