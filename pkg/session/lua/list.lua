-- list.lua: the live sessions of a user, in one atomic step, and the
-- session.listed audit event. (lib.lua comes first.)
-- KEYS: none declared; the index key is derived from A.uid.
-- ARGV[1] = A, with lib's fields and:
--   uid    the user
--   cur    the caller's own session id, for the audit (optional)
-- Returns {"ok", {sid, {field, value, ...}}, ...} oldest first. Entries of
-- ended or vanished sessions are skipped (the cron prunes them).
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', ukey(A.uid), 0, -1)) do
  local s = load(sid)
  if s and not ENDED[s.st] then
    out[#out + 1] = {sid, redis.call('HGETALL', skey(sid))}
  end
end
audit('session.listed', A.uid, A.cur or '', nil, {count = #out})
return {'ok', out}
