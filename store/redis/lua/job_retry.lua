-- Releases a claimed job, to be claimed again from a new due time, if the
-- claim still holds it. The attempt count is kept.
--
-- KEYS[1]  due set
-- KEYS[2]  job hash
-- ARGV[1]  key
-- ARGV[2]  claim token
-- ARGV[3]  new due, unix milliseconds
--
-- Returns 1, or 0 when the claim is lost.

if not holds(KEYS[2], ARGV[2]) then
    return 0
end
redis.call('hdel', KEYS[2], 'token', 'lease')
redis.call('hset', KEYS[2], 'due', ARGV[3])
redis.call('zadd', KEYS[1], ARGV[3], ARGV[1])
return 1
