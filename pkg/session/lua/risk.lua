-- risk.lua: the hijack risk score of a request against its session,
-- prepended (after lib.lua) to the scripts that judge a request.
-- Reads from A:
--   W     named weights {device, ua, ip_near, ip_far, cadence, failures}
--   dk    true when the presented fingerprint has a field of positive weight
--   ip, ipn, uaf   the request's IP, its network (/24 or /48), its user-agent family
--   cad   refreshes per minute above which the cadence is anomalous
--   fsat  failure count at which the failures signal is at full weight
-- and, outside A so that a call decodes them only when it needs them:
--   ARGV[2]  dw: fingerprint field weights (session.DeviceWeights), JSON
--   ARGV[3]  the presented fingerprint's features {field = value} as JSON
--            with sorted keys (as stored with the session), or ''
-- Its Go twin for the device part is session.Similarity; a test keeps them in step.

local DEVJ = ARGV[3] or ''
local DW

-- similarity: weighted share of the fields present in both that are equal;
-- keys in sorted order so the float sum matches the Go twin bit for bit.
local function similarity(a, b)
  DW = DW or cjson.decode(ARGV[2])
  local keys = {}
  for k in pairs(a) do keys[#keys + 1] = k end
  table.sort(keys)
  local total, same = 0, 0
  for _, k in ipairs(keys) do
    local w = DW[k] or 0
    if b[k] ~= nil and w > 0 then
      total = total + w
      if a[k] == b[k] then same = same + w end
    end
  end
  if total == 0 then return 1, false end
  return same / total, true
end

-- risk returns the score in [0, 1], the signals that made it (for the
-- audit), and the session's updated cadence window (start ms, count).
local function risk(s)
  local W, sig, score = A.W, {}, 0
  if DEVJ ~= '' and s.dev and s.dev ~= '' then
    -- The same text is the same features: equal wherever a field weighs,
    -- so the similarity is 1 if any field does (A.dk), and nothing to go
    -- on otherwise, exactly what similarity() would find, without decoding.
    local sim, ok = 1, A.dk == true
    if s.dev ~= DEVJ then sim, ok = similarity(cjson.decode(s.dev), cjson.decode(DEVJ)) end
    if ok then
      sig.device_similarity = sim
      score = score + W.device * (1 - sim)
    end
  end
  if (A.uaf or '') ~= '' and (s.uaf or '') ~= '' and A.uaf ~= s.uaf then
    sig.ua_changed = true
    score = score + W.ua
  end
  if (A.ip or '') ~= '' and (s.ip or '') ~= '' and A.ip ~= s.ip then
    if A.ipn == s.ipn then
      sig.ip = 'same_network'
      score = score + W.ip_near
    else
      sig.ip = 'new_network'
      score = score + W.ip_far
    end
  end
  local cw, cc = tonumber(s.cw) or 0, tonumber(s.cc) or 0
  if NOW - cw < 60000 then cc = cc + 1 else cw, cc = NOW, 1 end
  if cc > A.cad then
    sig.cadence = cc
    score = score + W.cadence
  end
  local nf = failures()
  if nf > 0 then
    sig.failures = nf
    score = score + W.failures * math.min(1, nf / A.fsat)
  end
  if score > 1 then score = 1 end
  return score, sig, cw, cc
end
