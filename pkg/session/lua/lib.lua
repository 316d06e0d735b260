-- lib.lua: shared helpers, prepended to every script of pkg/session.
--
-- Every script takes ARGV[1] = a JSON object A of parameters. Fields read
-- here (all scripts):
--   p     key prefix, e.g. "sd:"
--   now   the caller's clock, Unix ms (injected clock in tests)
--   ip, ua, actor        who asks, for the audit trail
--   ret   audit retention ms (TTL of per-user and per-session streams)
--   tomb  how long an ended session stays as a tombstone, ms
--   rl    rate-limit rules  [{r=rule, k=key, n=limit, w=window ms}]  (GCRA)
--   lf    lockout counters  [{r=rule, k=key, th=threshold, b=base ms, c=cap ms, j=jitter 0..1}]
-- Keys are derived from p; the scripts assume one Redis node (Upstash and
-- Vercel KV run a database's scripts on one node), not a cluster.

local A = cjson.decode(ARGV[1])
local P, NOW = A.p, A.now

local ENDED = {idle = true, expired = true, revoked = true, terminated = true}

local function skey(sid) return P .. 's:' .. sid end
local function ukey(uid) return P .. 'u:' .. uid end

local function hgetall(k)
  local r = redis.call('HGETALL', k)
  if #r == 0 then return nil end
  local t = {}
  for i = 1, #r, 2 do t[r[i]] = r[i + 1] end
  return t
end

local function int(x) return string.format('%d', math.floor(x)) end

-- push appends its arguments to the array t (none of them may be nil).
local function push(t, ...)
  for _, v in ipairs({...}) do t[#t + 1] = v end
end

-- audit writes one event to the global stream and, with the same id, to
-- the user's and the session's streams, in the caller's atomic step. The
-- streams are capped (100k, 2k per user, 500 per session, approximately)
-- so a burst cannot outgrow a small KV plan before the cron trims by age.
-- A per-user or per-session stream gets its TTL once per script, however
-- many events the script writes to it (the same TTL, set again a few
-- microseconds later, would change nothing).
local audit_ttl_set = {}
local function audit_ttl(k)
  if not audit_ttl_set[k] then
    redis.call('PEXPIRE', k, A.ret)
    audit_ttl_set[k] = true
  end
end

local function audit(action, uid, sid, risk, details)
  local f = {'t', int(NOW), 'act', action, 'uid', uid or '', 'sid', sid or '',
    'ip', A.ip or '', 'ua', A.ua or '', 'actor', A.actor or '',
    'risk', risk and string.format('%.3f', risk) or '',
    'd', details and cjson.encode(details) or ''}
  local id = redis.call('XADD', P .. 'a', 'MAXLEN', '~', 100000, '*', unpack(f))
  if uid and uid ~= '' then
    local k = P .. 'a:u:' .. uid
    redis.call('XADD', k, 'MAXLEN', '~', 2000, id, unpack(f))
    audit_ttl(k)
  end
  if sid and sid ~= '' then
    local k = P .. 'a:s:' .. sid
    redis.call('XADD', k, 'MAXLEN', '~', 500, id, unpack(f))
    audit_ttl(k)
  end
  return id
end

-- sampled audit: at most one event per action and key a minute, so an
-- attacker hammering a limit cannot flood the audit trail.
local function audit_sampled(action, key, details)
  if redis.call('SET', P .. 'as:' .. action .. ':' .. key, '1', 'NX', 'PX', 60000) then
    audit(action, A.uid, A.sid, nil, details)
  end
end

-- end_session moves a live session to an ended state: its access tokens
-- fail the next check, its refresh token is refused, it leaves the user's
-- index and the live set, and it stays as a tombstone for A.tomb ms.
local function end_session(sid, s, state, reason, action, details)
  local k = skey(sid)
  redis.call('HSET', k, 'st', state, 'er', reason, 'ea', int(NOW))
  redis.call('PEXPIRE', k, A.tomb)
  redis.call('ZREM', ukey(s.uid), sid)
  redis.call('ZREM', P .. 'live', sid)
  redis.call('ZREM', P .. 'susp', sid)
  s.st, s.er = state, reason
  details = details or {}
  details.reason = reason
  audit(action, s.uid, sid, nil, details)
end

-- settle ends a live session past its idle or absolute deadline (lazy
-- expiry), so every reader sees the same answer whether or not the cron
-- ran. It returns s, updated.
local function settle(sid, s)
  if not ENDED[s.st] then
    if NOW >= tonumber(s.abs) then
      end_session(sid, s, 'expired', 'absolute_timeout', 'session.absolute_expired')
    elseif NOW >= tonumber(s.idl) then
      end_session(sid, s, 'idle', 'idle_timeout', 'session.idle_expired')
    end
  end
  return s
end

-- load returns the session's fields, settled, or nil when the key is gone.
local function load(sid)
  local s = hgetall(skey(sid))
  if not s then return nil end
  return settle(sid, s)
end

-- load_only is load reading only the named fields (one HMGET instead of
-- HGETALL: a session hash also holds its device fingerprint, IP history
-- and metadata, which a check does not read). fields must name every field
-- the caller reads, and uid, st, abs and idl (lazy expiry). Absent fields
-- are nil, as with load; nil when the session is gone.
local function load_only(sid, fields)
  local r = redis.call('HMGET', skey(sid), unpack(fields))
  local s, found = {}, false
  for i = 1, #fields do
    if r[i] then
      s[fields[i]] = r[i]
      found = true
    end
  end
  if not found then return nil end
  return settle(sid, s)
end

-- deadline is when a live session ends if nothing happens.
local function deadline(s) return math.min(tonumber(s.idl), tonumber(s.abs)) end

-- gcra: Generic Cell Rate Algorithm (the virtual scheduling form of ITU-T
-- I.371): n requests per w ms with a burst of n. Returns the new TAT to
-- store, or nil and the wait in ms.
local function gcra(k, n, w)
  local T = w / n
  local tat = tonumber(redis.call('GET', k)) or NOW
  if tat < NOW then tat = NOW end
  local ntat = tat + T
  local allow = ntat - w
  if allow > NOW then return nil, math.ceil(allow - NOW) end
  return ntat, 0
end

-- guard runs the lockouts and rate limits of A before the operation.
-- Returns nil to go on, or {rule, retry ms, lockout 0|1} to refuse. Rules
-- only consume when all of them pass.
local function guard()
  for _, f in ipairs(A.lf or {}) do
    local u = tonumber(redis.call('HGET', P .. 'lf:' .. f.k, 'until'))
    if u and u > NOW then
      audit_sampled('rate_limit.lockout', f.k, {rule = f.r, key = f.k, retry_ms = u - NOW})
      return {f.r, u - NOW, 1}
    end
  end
  local new = {}
  for i, r in ipairs(A.rl or {}) do
    local ntat, wait = gcra(P .. 'rl:' .. r.k, r.n, r.w)
    if not ntat then
      audit_sampled('rate_limit.exceeded', r.k, {rule = r.r, key = r.k, retry_ms = wait})
      return {r.r, wait, 0}
    end
    new[i] = ntat
  end
  for i, r in ipairs(A.rl or {}) do
    redis.call('SET', P .. 'rl:' .. r.k, int(new[i]), 'PX', math.ceil(new[i] - NOW) + 1)
  end
  return nil
end

-- fail counts a failure against every lockout counter of A. From the
-- threshold on, each failure locks the key out for base * 2^(n-threshold)
-- ms, capped, with equal jitter (half fixed, half random from A's j) so the
-- lockout still grows while clients retrying in step spread out.
local function fail()
  for _, f in ipairs(A.lf or {}) do
    local k = P .. 'lf:' .. f.k
    local n = redis.call('HINCRBY', k, 'n', 1)
    if n >= f.th then
      -- Jitter first, then the cap: each lockout is then never shorter than
      -- the one before, the cap included.
      local d = f.b * 2 ^ (n - f.th)
      d = math.min(f.c, math.max(1000, math.floor(d / 2 + d / 2 * f.j)))
      redis.call('HSET', k, 'until', int(NOW + d))
      audit_sampled('rate_limit.lockout', f.k, {rule = f.r, key = f.k, failures = n, lockout_ms = d})
    end
    redis.call('PEXPIRE', k, f.c * 4)
  end
end

-- succeed resets the lockout counters of A: success from a key clears it.
local function succeed()
  for _, f in ipairs(A.lf or {}) do redis.call('DEL', P .. 'lf:' .. f.k) end
end

-- failures is the current failure count of A's first lockout counter.
local function failures()
  local f = (A.lf or {})[1]
  if not f then return 0 end
  return tonumber(redis.call('HGET', P .. 'lf:' .. f.k, 'n')) or 0
end
