-- create.lua: create a session, enforcing the per-user limit, in one atomic step.
-- (lib.lua comes first.)
-- KEYS: none declared; keys are derived from A.sid and A.uid.
-- ARGV[1] = A, with lib's fields and:
--   sid, uid      the new session's id and its user
--   h             hash of the generation-0 refresh token
--   idle, abs     idle and absolute timeouts ms; slack  key TTL beyond the deadline ms
--   max           sessions per user; the oldest live ones are ended to make room
--   ipn, uaf      the request's network and user-agent family
--   md            metadata JSON object text, optional
--   sc            scope, optional;  up, upx  sealed upstream blob and its expiry ms, optional
--   upi           the upstream token was introspected at the provider (audit it)
-- ARGV[3] = the device's features as JSON with sorted keys, or '' when it
-- has none (stored as is: refresh.lua compares the text first); ARGV[4] =
-- the device as the client sent it (JSON text, kept for display even when
-- it has no feature). ARGV[2] is unused (risk.lua's weights).
-- Returns {"ok", evicted count} or {"rate", rule, retry ms, lockout 0|1}.

local g = guard()
if g then return {'rate', g[1], g[2], g[3]} end

local sid, uid = A.sid, A.uid
local uk = ukey(uid)

-- Live sessions of the user, oldest first; entries of gone sessions are
-- dropped while we are here.
local live = {}
for _, id in ipairs(redis.call('ZRANGE', uk, 0, -1)) do
  local s = load(id)
  if s and not ENDED[s.st] then
    live[#live + 1] = {id, s}
  else
    redis.call('ZREM', uk, id)
  end
end
local evicted = 0
while #live >= A.max do
  local e = table.remove(live, 1)
  end_session(e[1], e[2], 'terminated', 'session_limit', 'session.evicted_limit', {max = A.max, by = sid})
  evicted = evicted + 1
end

local abs = NOW + A.abs
local idl = math.min(NOW + A.idle, abs)
local f = {'uid', uid, 'st', 'active', 'ca', int(NOW), 'la', int(NOW), 'idl', int(idl), 'abs', int(abs),
  'gen', 0, 'rh', A.h, 'ph', '', 'pu', 0, 'rot', int(NOW), 'ip', A.ip or '', 'ipn', A.ipn or '',
  'iph', A.ip or '', 'ua', A.ua or '', 'uaf', A.uaf or '', 'cw', int(NOW), 'cc', 0, 'risk', '0.000'}
if (ARGV[3] or '') ~= '' then push(f, 'dev', ARGV[3]) end
if (ARGV[4] or '') ~= '' then push(f, 'dvj', ARGV[4]) end
if A.md then push(f, 'md', A.md) end
if A.sc then push(f, 'sc', A.sc) end
if A.up then push(f, 'up', A.up, 'upx', int(A.upx)) end
local k = skey(sid)
redis.call('HSET', k, unpack(f))
local dl = math.min(idl, abs)
redis.call('PEXPIRE', k, math.ceil(dl - NOW + A.slack))
redis.call('ZADD', uk, int(NOW), sid)
local ttl = redis.call('PTTL', uk)
if ttl < A.abs + A.slack then redis.call('PEXPIRE', uk, A.abs + A.slack) end
redis.call('ZADD', P .. 'live', int(dl), sid)

audit('session.created', uid, sid, 0, {upstream = A.up and true or false})
audit('token.issued', uid, sid, nil, {gen = 0})
if A.upi then audit('upstream.introspected', uid, sid, nil, {active = true}) end
return {'ok', evicted}
