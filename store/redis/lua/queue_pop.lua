-- Pops up to #ARGV-2 pairs, FIFO, from the queues of the ready set. Each
-- member's entry becomes matched with the pair's session id, and the pair
-- is kept pending, leased. A queue left with fewer than two users leaves
-- the ready set, so the cost is in the pairs made, not in the lone
-- waiters.
--
-- ARGV[1]     now, unix milliseconds (matchedAt)
-- ARGV[2]     lease end, unix milliseconds
-- ARGV[3...]  session ids, one per pair
--
-- Returns {'OK', {pair, ...}}, each pair the JSON kept in <base>pairs.

local now = ARGV[1]
local lease_end = ARGV[2]
local n = #ARGV - 2
local pairs_key = base .. 'pairs'
local leases_key = base .. 'leases'
local out = {}
local made = 0

-- The pending pairs and their leases are written in batches of at most
-- 500 pairs, to stay within the argument limit of unpack.
local records, leases = {}, {}
local function flush()
    if #records > 0 then
        redis.call('hset', pairs_key, unpack(records))
        redis.call('zadd', leases_key, unpack(leases))
        records, leases = {}, {}
    end
end

while made < n do
    local qk = redis.call('srandmember', ready_key)
    if not qk then
        break
    end
    local qkey = queue_key(qk)
    local take = math.min(math.floor(redis.call('zcard', qkey) / 2), n - made)
    if take > 0 then
        -- {member, score, member, score, ...}, lowest join sequence first
        local head = redis.call('zpopmin', qkey, 2 * take)
        for p = 0, take - 1 do
            made = made + 1
            local sid = ARGV[made + 2]
            local rec = {sid, qk, now}
            for i = 1, 3, 2 do
                local user_id = head[4 * p + i]
                local key = entry_key(user_id)
                local f = redis.call('hmget', key, 'debit', 'joined')
                redis.call('hset', key, 'state', 'matched', 'session', sid)
                rec[#rec + 1] = user_id
                rec[#rec + 1] = f[1] or ''
                rec[#rec + 1] = f[2] or '0'
            end
            local encoded = cjson.encode(rec)
            records[#records + 1] = sid
            records[#records + 1] = encoded
            leases[#leases + 1] = lease_end
            leases[#leases + 1] = sid
            out[#out + 1] = encoded
            if #records >= 1000 then
                flush()
            end
        end
    end
    refresh_ready(qk)
end
flush()
if made > 0 then
    redis.call('decrby', base .. 'waiting', 2 * made)
end
return {'OK', out}
