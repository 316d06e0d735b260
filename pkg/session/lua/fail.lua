-- fail.lua: count one failure (e.g. a wrong admin key) against A's
-- lockout counters, outside any other operation. (lib.lua comes first.)
-- ARGV[1] = A, with lib's fields (lf).
-- Returns {"ok"} or {"rate", rule, retry ms, 1} when the key is locked out.
local g = guard()
if g then return {'rate', g[1], g[2], g[3]} end
fail()
local g2 = guard()
if g2 then return {'rate', g2[1], g2[2], g2[3]} end
return {'ok'}
