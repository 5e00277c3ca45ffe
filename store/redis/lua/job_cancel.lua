-- Deletes a job, claimed or not.
--
-- KEYS[1]  due set
-- KEYS[2]  job hash
-- ARGV[1]  key
--
-- Returns 1 if there was a job, else 0.

local n = redis.call('del', KEYS[2])
redis.call('zrem', KEYS[1], ARGV[1])
return n
