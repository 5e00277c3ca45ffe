-- Moves the lease of a claimed job, if the claim still holds it.
--
-- KEYS[1]  due set
-- KEYS[2]  job hash
-- ARGV[1]  key
-- ARGV[2]  claim token
-- ARGV[3]  new lease end, unix milliseconds
--
-- Returns 1, or 0 when the claim is lost.

if not holds(KEYS[2], ARGV[2]) then
    return 0
end
redis.call('hset', KEYS[2], 'lease', ARGV[3])
redis.call('zadd', KEYS[1], ARGV[3], ARGV[1])
return 1
