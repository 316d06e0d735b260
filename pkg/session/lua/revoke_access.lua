-- revoke_access.lua: put one access token on the revocation list until it
-- would have expired anyway. (lib.lua comes first.)
-- KEYS: none declared; the key is derived from A.jti.
-- ARGV[1] = A, with lib's fields and:
--   jti, sid, sub   the token's claims (already verified in Go)
--   ttl             ms until the token's exp (> 0)
-- Returns {"ok", 1 if newly revoked else 0}.
local set = redis.call('SET', P .. 'rj:' .. A.jti, '1', 'NX', 'PX', A.ttl)
if set then
  audit('token.revoked', A.sub, A.sid, nil, {token_type = 'access_token', jti = A.jti})
  return {'ok', 1}
end
return {'ok', 0}
