-- fail.lua: count one failure (e.g. a wrong admin key, a malformed refresh
-- token) against A's lockout counters, outside any other operation.
-- (lib.lua comes first.)
-- ARGV[1] = A, with lib's fields (lf).
-- Returns {"ok"} (this failure is answered as usual; from the threshold on,
-- the following attempts are refused) or {"rate", rule, retry ms, 1} when
-- the key was already locked out (nothing counted).
local g = guard()
if g then return {'rate', g[1], g[2], g[3]} end
fail()
return {'ok'}
