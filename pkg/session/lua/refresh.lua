-- refresh.lua: rotate a session's refresh token, in one atomic step.
-- (lib.lua and risk.lua come first.)
-- KEYS: none declared; the session key is derived from A.sid.
-- ARGV[1] = A, with lib's and risk's fields and:
--   sid     session id from the presented token
--   gen     the presented token's generation
--   h       hash of the presented token
--   nh      hash of its successor (generation gen+1)
--   idle    idle timeout ms; grace  grace window ms; slack  key TTL beyond the deadline ms
--   block   risk score at or above which the session is suspended
--   thr     device similarity below which device.mismatch is written
--   upw     upstream refresh window ms
--   up, upx a freshly refreshed sealed upstream blob and its expiry ms (optional)
--   ups     the upstream expiry ms the caller saw before refreshing (with up)
--   upskip  true: rotate even though the upstream token is in its window
--   hist    max refresh history entries kept; ipk  max IPs kept in history
-- ARGV[2], ARGV[3]: as risk.lua. ARGV[4]: the device as the client sent it
-- (JSON text), stored with ARGV[3] when the session has no fingerprint yet.
-- Returns one of:
--   {"ok", gen, rot ms, uid, deadline ms, scope, rotated 0|1}
--   {"upstream", sealed blob, upstream expiry ms}   nothing changed; refresh upstream first
--   {"invalid", reason}                               refused; reason is for the audit only
--   {"rate", rule, retry ms, lockout 0|1}             refused by a limit; nothing changed

local g = guard()
if g then return {'rate', g[1], g[2], g[3]} end

local sid = A.sid
local k = skey(sid)
local s = load(sid)
if not s then
  fail()
  return {'invalid', 'unknown'}
end
if ENDED[s.st] then
  fail()
  return {'invalid', s.st}
end
A.uid = s.uid
if s.st == 'suspended' then
  fail()
  return {'invalid', 'suspended'}
end

local gen = tonumber(s.gen)

-- A racing tab: the token was rotated less than the grace window ago and
-- its successor is still current. Hand back the same successor (the caller
-- derives it from the presented token) and the same access token (same
-- generation, same issue time): nothing changes, no second live successor.
if A.gen == gen - 1 and A.h == s.ph and NOW <= tonumber(s.pu) and A.nh == s.rh then
  -- A lease holder whose waiters gave up and rotated without it still
  -- stores what the provider gave it, unless someone stored newer tokens.
  if A.up and tonumber(s.upx or '0') == A.ups then
    redis.call('HSET', k, 'up', A.up, 'upx', int(A.upx))
    audit('upstream.refreshed', s.uid, sid, nil, {rotated = A.uprot and true or false, late = true})
    if A.uprot then audit('upstream.rotated', s.uid, sid, nil, nil) end
  end
  succeed()
  return {'ok', gen, tonumber(s.rot), s.uid, deadline(s), s.sc or '', 0}
end

if A.gen ~= gen or A.h ~= s.rh then
  if A.gen < gen then
    -- A rotated token presented again after the grace window: someone
    -- holds a copy. End the whole family (RFC 9700 4.14.2).
    fail()
    end_session(sid, s, 'revoked', 'refresh_token_reuse', 'token.reuse_detected',
      {presented_gen = A.gen, current_gen = gen})
    return {'invalid', 'reuse'}
  end
  fail()
  return {'invalid', 'mismatch'}
end

-- Upstream tokens first: in their refresh window and not refreshed by the
-- caller yet, stop here without changing anything. An unknown expiry (0, or
-- below: a bare ID token's) is never refreshed proactively.
local upx = tonumber(s.upx or '0') or 0
if upx > 0 and not A.up and not A.upskip and upx - NOW < A.upw then
  return {'upstream', s.up or '', tonumber(s.upx)}
end

local score, sig, cw, cc = risk(s)
if sig.device_similarity and sig.device_similarity < A.thr then
  audit('device.mismatch', s.uid, sid, score, {similarity = sig.device_similarity})
end
if sig.ip then
  audit('ip.changed', s.uid, sid, score, {from = s.ip, to = A.ip, kind = sig.ip})
end
if score >= A.block then
  redis.call('HSET', k, 'st', 'suspended', 'sa', int(NOW), 'risk', string.format('%.3f', score))
  redis.call('ZADD', P .. 'susp', int(NOW), sid)
  sig.score = score
  audit('hijack.suspected', s.uid, sid, score, sig)
  audit('session.suspended', s.uid, sid, score, {reason = 'risk'})
  fail()
  return {'invalid', 'suspended'}
end

local idl = math.min(NOW + A.idle, tonumber(s.abs))
local fields = {'gen', gen + 1, 'rh', A.nh, 'ph', s.rh, 'pu', int(NOW + A.grace),
  'rot', int(NOW), 'la', int(NOW), 'idl', int(idl), 'cw', int(cw), 'cc', cc,
  'risk', string.format('%.3f', score)}
if (A.ip or '') ~= '' and A.ip ~= s.ip then
  local hist = A.ip
  for ip in string.gmatch(s.iph or '', '[^,]+') do
    if ip ~= A.ip then hist = hist .. ',' .. ip end
  end
  local n, cut = 0, 0
  for i = 1, #hist do
    if string.sub(hist, i, i) == ',' then
      n = n + 1
      if n == A.ipk then cut = i - 1 break end
    end
  end
  if cut > 0 then hist = string.sub(hist, 1, cut) end
  push(fields, 'ip', A.ip, 'ipn', A.ipn or '', 'iph', hist)
end
if (A.uaf or '') ~= '' then push(fields, 'uaf', A.uaf, 'ua', A.ua or '') end
if (not s.dev or s.dev == '') and DEVJ ~= '' then push(fields, 'dev', DEVJ, 'dvj', ARGV[4] or '') end
if A.up then push(fields, 'up', A.up, 'upx', int(A.upx)) end
redis.call('HSET', k, unpack(fields))
local dl = math.min(idl, tonumber(s.abs))
redis.call('PEXPIRE', k, math.ceil(dl - NOW + A.slack))
redis.call('ZADD', P .. 'live', int(dl), sid)

local rec = cjson.encode({t = NOW, ip = A.ip or '', from = gen, to = gen + 1,
  upstream = A.up and true or false})
redis.call('LPUSH', P .. 'h:' .. sid, rec)
redis.call('LTRIM', P .. 'h:' .. sid, 0, A.hist - 1)
redis.call('PEXPIRE', P .. 'h:' .. sid, math.ceil(tonumber(s.abs) - NOW + A.slack))

succeed()
audit('token.rotated', s.uid, sid, score, {from = gen, to = gen + 1, upstream = A.up and true or false})
audit('session.refreshed', s.uid, sid, score, nil)
if A.up then
  audit('upstream.refreshed', s.uid, sid, nil, {rotated = A.uprot and true or false})
  if A.uprot then audit('upstream.rotated', s.uid, sid, nil, nil) end
end
return {'ok', gen + 1, NOW, s.uid, dl, s.sc or '', 1}
