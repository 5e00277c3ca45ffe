-- Helpers shared by the job scripts: scheduler.go prepends this file to
-- each of them.
--
-- Key layout (see JobStore in scheduler.go), with store prefix P:
--   P{jobs}:due        sorted set: job keys scored by the unix millisecond
--                      from which the job can be claimed (its due time, or
--                      the end of its lease while claimed)
--   P{jobs}:job:<key>  hash: kind, due, payload, attempt, and while claimed
--                      token and lease
-- The {jobs} hash tag puts every key in one Redis Cluster slot, so the
-- claim script can derive the job hashes from KEYS[1] (the due set).
--
-- Scripts that act on a claim return 1 when the claim's token still holds
-- the job and 0 (the claim is lost) otherwise.

-- job_key returns the hash key of job key, from the due set's key.
local function job_key(due_key, key)
    return string.sub(due_key, 1, -4) .. 'job:' .. key
end

-- holds reports whether token is the current claim token of job hash jk.
local function holds(jk, token)
    return token ~= '' and redis.call('hget', jk, 'token') == token
end
