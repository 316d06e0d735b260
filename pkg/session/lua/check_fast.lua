-- check_fast.lua: the common case of check.lua, placed ahead of lib.lua so
-- that it runs before lib's and risk's definitions are built (in Redis the
-- whole script body runs on every call, definitions included).
-- KEYS, ARGV and replies: as check.lua.
--
-- It answers only "active": a token whose session is active and within its
-- deadlines, the access token not revoked (or the refresh token current),
-- asked about without the end user's request (no risk judgement, A.hj) and
-- within every rate limit of A.rl, with no lockout rule (A.lf). Then it
-- makes the very writes check.lua would (the rate-limit states, the same
-- values) and returns the same reply. In every other case it has written
-- nothing and falls through to lib.lua and check.lua, which decide from
-- scratch. check_test.go (TestCheckFastPathMatchesFullPath) runs both on
-- the same states and compares replies and stores.

do
  local FA = cjson.decode(ARGV[1])
  local FP, FNOW = FA.p, FA.now
  local sid = FA.sid
  if not FA.hj and (FA.lf == nil or #FA.lf == 0) and type(sid) == 'string' and (FA.rt or type(FA.jti) == 'string') then
    -- Rate limits: read them all first (GCRA, as lib.lua's gcra and guard).
    local rl, tats, ok = FA.rl or {}, {}, true
    for i, r in ipairs(rl) do
      local T = r.w / r.n
      local tat = tonumber(redis.call('GET', FP .. 'rl:' .. r.k)) or FNOW
      if tat < FNOW then tat = FNOW end
      local ntat = tat + T
      if ntat - r.w > FNOW then ok = false break end
      tats[i] = ntat
    end
    if ok then
      local r = redis.call('HMGET', FP .. 's:' .. sid, 'uid', 'st', 'abs', 'idl', 'gen', 'rh', 'risk', 'sc', 'rot')
      local uid, st, abs, idl = r[1], r[2], tonumber(r[3]), tonumber(r[4])
      ok = uid and st == 'active' and abs and idl and FNOW < abs and FNOW < idl
      if ok then
        if FA.rt then
          ok = FA.rgen == tonumber(r[5]) and FA.rh == r[6]
        else
          ok = uid == FA.sub and redis.call('EXISTS', FP .. 'rj:' .. FA.jti) == 0
        end
      end
      if ok then
        for i, rr in ipairs(rl) do
          local ntat = tats[i]
          redis.call('SET', FP .. 'rl:' .. rr.k, string.format('%d', math.floor(ntat)), 'PX', math.ceil(ntat - FNOW) + 1)
        end
        return {'active', st, r[7] or '0.000', r[8] or '', tonumber(r[9]), math.min(idl, abs), uid}
      end
    end
  end
end
