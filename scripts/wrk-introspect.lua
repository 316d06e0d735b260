-- wrk-introspect.lua: one RFC 7662 introspection request, replayed by wrk
-- (the optional cross-check of scripts/bench.sh). The token and the
-- Authorization value come from the environment, never the command line:
--   WRK_TOKEN  the access token to introspect
--   WRK_AUTH   Authorization header value (empty for Hydra's admin port)
-- Answers that are not {"active": true} are counted: wrk alone would call a
-- 200 {"active": false} a success.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local auth = os.getenv("WRK_AUTH")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
local token = os.getenv("WRK_TOKEN") or ""
local escaped = token:gsub("[^%w%-%._~]", function(c)
  return string.format("%%%02X", string.byte(c))
end)
wrk.body = "token=" .. escaped

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  inactive = 0
end

function response(status, headers, body)
  if status ~= 200 or not body:find('"active":%s*true') then
    inactive = inactive + 1
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("inactive")
  end
  io.write(string.format("inactive or failed answers: %d\n", n))
end
