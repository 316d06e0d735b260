-- end.lua: end sessions, in one atomic step. (lib.lua comes first.)
-- KEYS: none declared; keys derived from the ids in A.
-- ARGV[1] = A, with lib's fields and:
--   mode    "ids": end A.ids (when A.owner is set, only those of that user)
--           "user": end every live session of user A.owner (logout everywhere)
--           "refresh": end A.ids[1] if the refresh token (A.gen, A.h) is one
--           this session issued (RFC 7009 revocation by refresh token)
--   reason  why, for the audit (e.g. "logout", "admin")
--   state   the ended state (default "revoked"); action  its audit action (default "session.revoked")
--   note    an audit action written before each end (e.g. "upstream.refresh_failed"), optional
-- Returns {"ok", number of sessions ended, {sid, sealed upstream blob}, ...}:
-- the blobs let the caller revoke the provider's tokens, best effort.

local function authentic(s)
  local gen = tonumber(s.gen)
  if A.gen < gen then return true end -- an older token of this session (its tag was checked in Go)
  return A.gen == gen and A.h == s.rh
end

local ids = A.ids or {}
if A.mode == 'user' then
  ids = redis.call('ZRANGE', ukey(A.owner), 0, -1)
end

local n, ups = 0, {}
for _, sid in ipairs(ids) do
  local s = load(sid)
  if s and not ENDED[s.st] and (A.owner == nil or A.owner == '' or s.uid == A.owner) then
    if A.mode ~= 'refresh' or authentic(s) then
      if A.mode == 'refresh' then
        audit('token.revoked', s.uid, sid, nil, {token_type = 'refresh_token'})
      end
      if A.note then audit(A.note, s.uid, sid, nil, {reason = A.reason}) end
      end_session(sid, s, A.state or 'revoked', A.reason, A.action or 'session.revoked', nil)
      if s.up and s.up ~= '' then ups[#ups + 1] = {sid, s.up} end
      redis.call('DEL', P .. 'lease:up:' .. sid)
      n = n + 1
    end
  end
end
if A.mode == 'user' then
  redis.call('DEL', ukey(A.owner))
  audit('user.sessions_revoked', A.owner, nil, nil, {count = n, reason = A.reason})
end
if A.actor == 'admin' then
  audit('admin.action', A.owner or '', nil, nil, {op = 'end_sessions', mode = A.mode, count = n})
end
local out = {'ok', n}
for _, u in ipairs(ups) do out[#out + 1] = u end
return out
