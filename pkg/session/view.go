package session

import (
	"encoding/json"
	"strconv"
)

// view builds the public Session from a session hash as the scripts store
// it (field names: see doc.go).
func view(sid string, f map[string]string) Session {
	i := func(k string) int64 { n, _ := strconv.ParseInt(f[k], 10, 64); return n }
	s := Session{
		ID: sid, UserID: f["uid"], State: State(f["st"]),
		CreatedAt: ms(i("ca")), LastActiveAt: ms(i("la")),
		AbsoluteExpiry: ms(i("abs")), IP: f["ip"], Metadata: map[string]string{},
		EndedReason: f["er"],
	}
	s.ExpiresAt = ms(min(i("idl"), i("abs")))
	s.RiskScore, _ = strconv.ParseFloat(f["risk"], 64)
	g, _ := strconv.ParseUint(f["gen"], 10, 32)
	s.Generation = uint32(g)
	if j := f["dvj"]; j != "" {
		var d Device
		if json.Unmarshal([]byte(j), &d) == nil {
			s.Device = &d
		}
	}
	if j := f["md"]; j != "" && j != "[]" {
		_ = json.Unmarshal([]byte(j), &s.Metadata)
	}
	if x := i("upx"); x > 0 {
		t := ms(x)
		s.UpstreamExpiry = &t
	}
	if x := i("sa"); x > 0 && s.State == StateSuspended {
		t := ms(x)
		s.SuspendedAt = &t
	}
	return s
}
