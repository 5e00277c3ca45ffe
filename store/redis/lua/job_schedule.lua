-- Inserts or replaces a job: a job of the same key loses its claim and
-- its attempt count.
--
-- KEYS[1]  due set
-- KEYS[2]  job hash
-- ARGV[1]  key
-- ARGV[2]  kind
-- ARGV[3]  due, unix milliseconds
-- ARGV[4]  payload
--
-- Returns 1.

redis.call('del', KEYS[2])
redis.call('hset', KEYS[2], 'kind', ARGV[2], 'due', ARGV[3], 'payload', ARGV[4], 'attempt', 0)
redis.call('zadd', KEYS[1], ARGV[3], ARGV[1])
return 1
