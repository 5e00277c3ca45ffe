-- Deletes a job if the claim still holds it.
--
-- KEYS[1]  due set
-- KEYS[2]  job hash
-- ARGV[1]  key
-- ARGV[2]  claim token
--
-- Returns 1, or 0 when the claim is lost.

if not holds(KEYS[2], ARGV[2]) then
    return 0
end
redis.call('del', KEYS[2])
redis.call('zrem', KEYS[1], ARGV[1])
return 1
