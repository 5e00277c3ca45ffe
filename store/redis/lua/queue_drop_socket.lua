-- Removes a socket of a user and counts the user's sockets still present,
-- forgetting those that expired.
--
-- ARGV[1]  userId
-- ARGV[2]  socket id
-- ARGV[3]  now, unix milliseconds
--
-- Returns {'OK', count}.

local key = base .. 'p:' .. ARGV[1]
redis.call('hdel', key, ARGV[2])
local now = tonumber(ARGV[3])
local h = redis.call('hgetall', key)
local live = 0
for i = 1, #h, 2 do
    if tonumber(h[i + 1]) > now then
        live = live + 1
    else
        redis.call('hdel', key, h[i])
    end
end
return {'OK', live}
