-- lease.lua: release the upstream-refresh lease if we still hold it.
-- KEYS[1] = the lease key. ARGV[1] = the holder's random token.
-- Returns 1 when released, 0 when someone else holds it (or nobody).
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
