-- check.lua: is a token's session live and the token itself current? One
-- atomic step, for introspection and for bearer auth. (lib.lua and
-- risk.lua come first.) An access token's signature and times were checked
-- in Go before, and a refresh token's tag; this is what only the store knows.
-- KEYS: none declared; keys derived from A.sid and A.jti.
-- ARGV[1] = A, with lib's fields and:
--   sid, sub       the token's session and subject
--   jti            access token: its id, checked against the revocation list
--   rt, rgen, rh   refresh token: true, its generation and hash
--   ai             write token.introspected_inactive when inactive (introspection)
--   hj             judge the end user's request (ip/ua/dev in A) with risk.lua:
--                  at or above A.block the session is suspended (optional)
-- Returns {"active", state, risk score text, scope, rot ms, deadline ms, uid}
-- or {"inactive", reason} or {"rate", rule, retry ms, lockout 0|1}.
-- check_fast.lua runs first and answers the common active case itself;
-- whatever it does not answer arrives here untouched.

local g = guard()
if g then return {'rate', g[1], g[2], g[3]} end

-- Sampled per token: a resource server may ask about a revoked token on
-- every request it gets, and the trail needs the fact once a minute, not
-- a thousand times.
local function inactive(reason)
  if A.ai then
    A.uid = A.uid or A.sub
    audit_sampled('token.introspected_inactive', A.jti or A.rh or A.sid, {reason = reason, jti = A.jti})
  end
  return {'inactive', reason}
end

-- Only what this script reads (risk.lua's fields too when judging).
local fields = {'uid', 'st', 'abs', 'idl', 'gen', 'rh', 'risk', 'sc', 'rot'}
if A.hj then
  for _, f in ipairs({'dev', 'uaf', 'ip', 'ipn', 'cw', 'cc'}) do fields[#fields + 1] = f end
end
local s = load_only(A.sid, fields)
if not s then return inactive('unknown_session') end
if A.rt then
  A.sub = s.uid
  local gen = tonumber(s.gen)
  -- Only the current token: a rotated one still inside the grace window
  -- is honoured by refresh.lua for racing tabs, but it is no longer the
  -- session's refresh token.
  if not (A.rgen == gen and A.rh == s.rh) then return inactive('refresh_token_not_current') end
end
if s.uid ~= A.sub then return inactive('subject_mismatch') end
if s.st ~= 'active' then return inactive(s.st) end
if not A.rt and redis.call('EXISTS', P .. 'rj:' .. A.jti) == 1 then return inactive('token_revoked') end

local score = s.risk or '0.000'
if A.hj then
  A.uid = s.uid
  local sc, sig = risk(s)
  if sc >= A.block then
    redis.call('HSET', skey(A.sid), 'st', 'suspended', 'sa', int(NOW), 'risk', string.format('%.3f', sc))
    redis.call('ZADD', P .. 'susp', int(NOW), A.sid)
    sig.score = sc
    sig.via = 'introspect'
    audit('hijack.suspected', s.uid, A.sid, sc, sig)
    audit('session.suspended', s.uid, A.sid, sc, {reason = 'risk'})
    return inactive('suspended')
  end
  -- Sampled: a resource server calls this on every request.
  if sig.ip then audit_sampled('ip.changed', A.sid .. ':' .. A.ip, {from = s.ip, to = A.ip, kind = sig.ip, via = 'introspect'}) end
  score = string.format('%.3f', sc)
end
return {'active', s.st, score, s.sc or '', tonumber(s.rot), deadline(s), s.uid}
