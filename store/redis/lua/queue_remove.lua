-- Deletes a waiting entry, keeping the ready set and the waiting count up
-- to date.
--
-- ARGV[1]  userId
--
-- Returns {'OK', entry} (removed), {'KEPT', entry} (an entry in another
-- state, unchanged) or {'NONE'}.

local user_id = ARGV[1]
local e = entry(user_id)
if not e then
    return {'NONE'}
end
if e[4] ~= 'waiting' then
    return {'KEPT', e}
end
redis.call('zrem', queue_key(e[2]), user_id)
redis.call('del', entry_key(user_id))
redis.call('decr', base .. 'waiting')
refresh_ready(e[2])
return {'OK', e}
