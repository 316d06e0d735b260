-- update.lua: merge a session's metadata and/or resume a suspended
-- session, in one atomic step. (lib.lua comes first.)
-- KEYS: none declared; keys derived from A.sid and A.cur.
-- ARGV[1] = A, with lib's fields and:
--   sid     the session to update
--   owner   the user the caller acts as ("" = admin)
--   cur     the caller's own session id ("" = admin)
--   set     {key = value} to set;  del  [key, ...] to delete
--   maxk    the most metadata keys a session may hold
--   resume  true: suspended -> active
-- Returns {"ok", {field, value, ...}} or {"notfound"} or {"forbidden", why}
-- or {"invalid", why}.
local s = load(A.sid)
if not s or ENDED[s.st] or (A.owner ~= '' and s.uid ~= A.owner) then return {'notfound'} end

if A.resume and s.st == 'suspended' then
  if A.owner ~= '' then
    -- Only another live session of the same user may vouch for this one.
    if A.cur == A.sid then return {'forbidden', 'a suspended session cannot resume itself'} end
    local c = load(A.cur)
    if not c or c.st ~= 'active' or c.uid ~= s.uid then return {'forbidden', 'no other active session'} end
  end
end

local changed = false
if A.set or A.del then
  local md = {}
  if s.md and s.md ~= '' then md = cjson.decode(s.md) end
  for _, key in ipairs(A.del or {}) do md[key] = nil end
  local n = 0
  for key, v in pairs(A.set or {}) do md[key] = v end
  for _ in pairs(md) do n = n + 1 end
  if n > A.maxk then return {'invalid', 'metadata would hold more than ' .. A.maxk .. ' keys'} end
  if n == 0 then
    redis.call('HDEL', skey(A.sid), 'md')
  else
    redis.call('HSET', skey(A.sid), 'md', cjson.encode(md))
  end
  A.uid = s.uid
  audit('session.metadata_updated', s.uid, A.sid, nil, {keys = n})
  changed = true
end

if A.resume and s.st == 'suspended' then
  redis.call('HSET', skey(A.sid), 'st', 'active', 'risk', '0.000')
  redis.call('HDEL', skey(A.sid), 'sa')
  redis.call('ZREM', P .. 'susp', A.sid)
  audit('session.resumed', s.uid, A.sid, nil, {by = (A.owner == '' and 'admin') or A.cur})
  changed = true
end
if changed and A.actor == 'admin' then
  audit('admin.action', s.uid, A.sid, nil, {op = 'update_session'})
end
return {'ok', redis.call('HGETALL', skey(A.sid))}
