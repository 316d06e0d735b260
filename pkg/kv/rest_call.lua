-- rest_call.lua: runs one Redis command whose arguments could not travel in
-- the REST transport's JSON body because they are not valid UTF-8 (JSON
-- strings carry Unicode text, not bytes). Such arguments are sent
-- hex-encoded and decoded here, inside the store, so Redis receives exactly
-- the caller's bytes. Used by the REST transport only; see rest_encode.go.
--
-- KEYS:    none. The command's own keys are among ARGV, which a single-shard
--          store (Redis, Upstash) accepts.
-- ARGV[1]: mask, one character per command word: "1" = hex-encoded, "0" = as is.
-- ARGV[2]: the command name, ARGV[3..] its arguments.
-- Returns: the command's reply, unchanged. redis.pcall hands an error reply
--          back as the same error reply instead of raising a script error.
local mask = ARGV[1]
local cmd = {}
for i = 2, #ARGV do
  local v = ARGV[i]
  if string.sub(mask, i - 1, i - 1) == "1" then
    v = (string.gsub(v, "%x%x", function(h) return string.char(tonumber(h, 16)) end))
  end
  cmd[i - 1] = v
end
return redis.pcall(unpack(cmd))
