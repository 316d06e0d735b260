package session

import (
	"net/netip"
	"strings"
)

// RiskWeights are the named weights of the hijack risk score of a refresh
// (and of an introspection that passes the end user's request). Each signal
// adds its weight; the sum is capped at 1 and compared with RiskBlock.
//
// The defaults are chosen so that, with RiskBlock 0.7:
//   - the same device from a new network (travel, mobile data) passes:
//     IPFar 0.3;
//   - a new device on the same network passes, flagged device.mismatch:
//     Device 0.45 + UserAgent 0.2 = 0.65;
//   - a different device from a different network is refused and the
//     session suspended: 0.45 + 0.2 + 0.3 = 0.95.
type RiskWeights struct {
	// Device is multiplied by (1 - similarity) of the presented fingerprint
	// to the session's (see Similarity): a wholly different device adds all
	// of it, the same device nothing. No fingerprint presented adds nothing.
	Device float64 `json:"device"`
	// UserAgent is added when the user-agent family (browser and OS, not
	// versions) differs from the session's.
	UserAgent float64 `json:"ua"`
	// IPNear is added for a new IP in the same network (/24 for IPv4, /48
	// for IPv6); IPFar for a new network.
	IPNear float64 `json:"ip_near"`
	IPFar  float64 `json:"ip_far"`
	// Cadence is added when the session has been refreshed more than
	// CadencePerMinute times in the last minute: a client that rotates
	// tokens far faster than they expire is a script, not a browser.
	Cadence          float64 `json:"cadence"`
	CadencePerMinute int     `json:"-"`
	// Failures is added, scaled by failures/FailuresSaturate (at most 1),
	// when the client's IP has failed refreshes on record (bad or reused
	// tokens): someone trying stolen tokens until one works.
	Failures         float64 `json:"failures"`
	FailuresSaturate int     `json:"-"`
}

// DefaultRiskWeights are the weights used when Config.Risk is nil.
var DefaultRiskWeights = RiskWeights{
	Device:           0.45,
	UserAgent:        0.2,
	IPNear:           0.05,
	IPFar:            0.3,
	Cadence:          0.25,
	CadencePerMinute: 12,
	Failures:         0.3,
	FailuresSaturate: 5,
}

// ipNetwork returns the network an IP belongs to for the risk score: its
// /24 (IPv4, or IPv4-mapped IPv6) or /48 (IPv6). Empty for an unknown IP.
func ipNetwork(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// uaFamily reduces a User-Agent header to "browser/os" without versions,
// so a browser update does not look like a new device but a different
// browser or OS does. Unknown agents keep their first product token.
func uaFamily(ua string) string {
	if ua == "" {
		return ""
	}
	l := strings.ToLower(ua)
	browser := "other"
	for _, b := range []struct{ needle, name string }{
		{"edg/", "edge"}, {"opr/", "opera"}, {"firefox/", "firefox"}, {"fxios/", "firefox"},
		{"crios/", "chrome"}, {"chrome/", "chrome"}, {"chromium/", "chrome"}, {"safari/", "safari"},
		{"curl/", "curl"}, {"go-http-client", "go"}, {"python", "python"}, {"okhttp", "okhttp"},
		{"node", "node"}, {"headlesschrome", "chrome"},
	} {
		if strings.Contains(l, b.needle) {
			browser = b.name
			break
		}
	}
	if browser == "other" {
		first, _, _ := strings.Cut(l, "/")
		first, _, _ = strings.Cut(first, " ")
		if len(first) > 32 {
			first = first[:32]
		}
		browser = first
	}
	os := "other"
	for _, o := range []struct{ needle, name string }{
		{"iphone", "ios"}, {"ipad", "ios"}, {"android", "android"}, {"windows", "windows"},
		{"mac os x", "macos"}, {"macintosh", "macos"}, {"cros", "chromeos"}, {"linux", "linux"},
	} {
		if strings.Contains(l, o.needle) {
			os = o.name
			break
		}
	}
	return browser + "/" + os
}
