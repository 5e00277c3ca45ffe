-- Lists joining entries reserved before a time, oldest first.
--
-- ARGV[1]  before, unix milliseconds (exclusive)
-- ARGV[2]  limit
--
-- Returns {'OK', {entry, ...}}.

local ids = redis.call('zrangebyscore', base .. 'joining', '-inf', '(' .. ARGV[1], 'limit', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
    local e = entry(id)
    if e then
        out[#out + 1] = e
    end
end
return {'OK', out}
