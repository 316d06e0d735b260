-- lease_take.lua: take the lease to refresh a session's upstream tokens,
-- unless they were refreshed since the caller looked. One atomic step, so
-- an instance that saw stale tokens cannot take a lease another instance
-- has just released after refreshing them.
-- KEYS[1] = the lease key, KEYS[2] = the session key.
-- ARGV[1] = a random holder token, ARGV[2] = lease duration ms,
-- ARGV[3] = the upstream expiry ms the caller saw.
-- Returns "moved" (already refreshed: just run again), "busy" (someone
-- holds the lease: wait) or "ok" (ours).
local upx = redis.call('HGET', KEYS[2], 'upx')
if upx ~= ARGV[3] then return 'moved' end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'ok' end
return 'busy'
