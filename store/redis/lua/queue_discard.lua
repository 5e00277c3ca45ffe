-- Deletes a joining entry with the given debit key.
--
-- ARGV[1]  userId
-- ARGV[2]  debit key
--
-- Returns {'OK', 1} when it was deleted, {'OK', 0} when there was none.

local user_id = ARGV[1]
local key = entry_key(user_id)
local f = redis.call('hmget', key, 'state', 'debit')
if f[1] ~= 'joining' or f[2] ~= ARGV[2] then
    return {'OK', 0}
end
redis.call('del', key)
redis.call('zrem', base .. 'joining', user_id)
return {'OK', 1}
