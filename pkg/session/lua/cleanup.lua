-- cleanup.lua: one bounded batch of the cron's index pruning. Safe to run
-- twice at once and to stop between batches: every step is idempotent.
-- (lib.lua comes first.)
-- KEYS: none declared; keys derived from A.
-- ARGV[1] = A, with lib's fields and:
--   uks     user index keys (full names, from SCAN) to prune
--   lim     at most this many sessions past their deadline to end from the live set
--   fin     when set, no pruning: write the cron.cleanup event with these details
-- Returns {"ok", index entries pruned, sessions ended, live-set entries processed}.
if A.fin then
  audit('cron.cleanup', nil, nil, nil, A.fin)
  return {'ok', 0, 0}
end
local pruned, ended, seen = 0, 0, 0
-- Sessions whose deadline passed but that nobody touched since: end them
-- now, with their expiry event, rather than let them vanish silently.
for _, sid in ipairs(redis.call('ZRANGEBYSCORE', P .. 'live', '-inf', int(NOW), 'LIMIT', 0, A.lim)) do
  local s = load(sid)
  if s and ENDED[s.st] then ended = ended + 1 end
  redis.call('ZREM', P .. 'live', sid)
  seen = seen + 1
end
for _, uk in ipairs(A.uks or {}) do
  for _, sid in ipairs(redis.call('ZRANGE', uk, 0, -1)) do
    local s = load(sid)
    if not s or ENDED[s.st] then
      pruned = pruned + redis.call('ZREM', uk, sid)
    end
  end
end
return {'ok', pruned, ended, seen}
