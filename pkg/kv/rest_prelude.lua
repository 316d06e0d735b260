-- rest_prelude.lua: put by the REST transport in front of a script that Run
-- is given keys or arguments that are not valid UTF-8 (see rest_call.lua
-- for why). It shadows KEYS and ARGV with the decoded values, so the script
-- after it sees exactly the keys and arguments Run was given.
--
-- KEYS:    the script's keys, hex-encoded where the key mask says "1".
-- ARGV[1]: key mask, one character per key: "1" = hex-encoded, "0" = as is.
-- ARGV[2]: argument mask, one character per argument, the same way.
-- ARGV[3..]: the script's arguments.
-- Returns: whatever the script after it returns.
local KEYS, ARGV = (function(k, a)
  local function dec(list, mask, from)
    local out = {}
    for i = from, #list do
      local j = i - from + 1
      local v = list[i]
      if string.sub(mask, j, j) == "1" then
        v = (string.gsub(v, "%x%x", function(h) return string.char(tonumber(h, 16)) end))
      end
      out[j] = v
    end
    return out
  end
  return dec(k, a[1], 1), dec(a, a[2], 3)
end)(KEYS, ARGV)
