package httpapi_test

// Hijack detection over HTTP. The client's network is its socket peer
// (127.0.0.0/8 gives many /24s on one host: 127.0.1.7 and 127.0.1.8 share
// a /24, 127.0.2.9 is another network); the device is the JSON "device" of
// the refresh body, the user-agent family the User-Agent header. The risk
// weights (session.DefaultRiskWeights): device 0.45 x (1 - similarity),
// user-agent family 0.2, new IP in the same /24 0.05, new network 0.3,
// refresh cadence over 12/min 0.25, failed refreshes from the IP 0.3 x
// min(1, n/5); at or above SESSION_RISK_BLOCK (0.7) the refresh is
// refused and the session suspended.

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/sessionkit/sessiond/pkg/session"
)

const (
	uaChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	uaFirefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
)

// deviceA is the victim's laptop; deviceB differs in every field.
func deviceA() map[string]any {
	return map[string]any{
		"user_agent": uaChromeWindows, "platform": "Win32", "os": "Windows", "os_version": "10",
		"browser": "Chrome", "browser_version": "126.0", "device_type": "desktop", "language": "en-US",
		"timezone": "Europe/Berlin", "timezone_offset": -60, "screen_width": 1920, "screen_height": 1080,
		"color_depth": 24, "pixel_ratio": 1, "hardware_concurrency": 8, "device_memory": 8,
		"canvas_hash": "c4nv4s-a", "webgl_vendor": "Google Inc. (NVIDIA)", "webgl_renderer": "ANGLE (NVIDIA GeForce RTX 3060)",
		"audio_hash": "4ud10-a", "fonts_hash": "f0nts-a",
	}
}

func deviceB() map[string]any {
	return map[string]any{
		"user_agent": uaFirefoxLinux, "platform": "Linux x86_64", "os": "Linux", "os_version": "6.8",
		"browser": "Firefox", "browser_version": "128.0", "device_type": "server", "language": "ru-RU",
		"timezone": "Asia/Novosibirsk", "timezone_offset": -420, "screen_width": 1024, "screen_height": 768,
		"color_depth": 16, "pixel_ratio": 2, "hardware_concurrency": 64, "device_memory": 32,
		"canvas_hash": "c4nv4s-b", "webgl_vendor": "Mesa", "webgl_renderer": "llvmpipe",
		"audio_hash": "4ud10-b", "fonts_hash": "f0nts-b",
	}
}

// similarity computes what the refresh script will: session.Similarity of
// the two fingerprints' features.
func similarity(t *testing.T, a, b map[string]any) float64 {
	t.Helper()
	dec := func(m map[string]any) map[string]string {
		j, _ := json.Marshal(m)
		d, err := session.DecodeDevice(j)
		if err != nil {
			t.Fatal(err)
		}
		return d.Features()
	}
	s, _ := session.Similarity(dec(a), dec(b))
	return s
}

// refreshAs rotates rt the way a browser would: JSON body with its device,
// its User-Agent, from its network.
func (a *advServer) refreshAs(t *testing.T, rt, from, ua string, device map[string]any) *resp {
	t.Helper()
	body := map[string]any{"refresh_token": rt}
	if device != nil {
		body["device"] = device
	}
	return a.do(t, areq{method: "POST", path: "/api/refresh", json: body, from: from, ua: ua})
}

// riskOf returns the risk score of the newest event with action.
func riskOf(t *testing.T, evs []auditEvent, action string) float64 {
	t.Helper()
	e := withAction(evs, action)
	if len(e) == 0 || e[0].RiskScore == nil {
		t.Fatalf("no %s event with a risk score", action)
	}
	return *e[0].RiskScore
}

func ipChangeKinds(t *testing.T, evs []auditEvent) []string {
	t.Helper()
	var kinds []string
	for _, e := range withAction(evs, "ip.changed") {
		var d struct{ Kind string }
		if err := json.Unmarshal(e.Details, &d); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, d.Kind)
	}
	return kinds
}

func TestAdversarialHijack(t *testing.T) {
	eachAdv(t, map[string]string{"SESSION_RATE_LIMIT_SCALE": "1"}, func(t *testing.T, a *advServer) {
		const home, cafe, cafe2, attacker = "127.0.0.1", "127.0.1.7", "127.0.1.8", "127.0.2.9"
		dev := deviceA()
		s0 := a.create(t, "hijackee", map[string]any{"device": dev}, home, uaChromeWindows)
		other := a.create(t, "hijackee", map[string]any{"device": dev}, home, uaChromeWindows)
		sid := s0.SessionID
		q := "session_id=" + sid

		// The same device from a new network: passes, flagged ip.changed.
		r := a.refreshAs(t, s0.Refresh, cafe, uaChromeWindows, dev)
		want{status: 200}.check(t, r)
		s1 := issuedOf(t, r)
		evs := a.events(t, q)
		if k := ipChangeKinds(t, evs); len(k) != 1 || k[0] != "new_network" {
			t.Fatalf("ip.changed kinds %v, want [new_network]", k)
		}
		if got := riskOf(t, evs, "token.rotated"); math.Abs(got-0.3) > 0.001 {
			t.Fatalf("risk %v, want 0.3 (new network only)", got)
		}
		// A neighbour in the same /24: milder.
		r = a.refreshAs(t, s1.Refresh, cafe2, uaChromeWindows, dev)
		want{status: 200}.check(t, r)
		s2 := issuedOf(t, r)
		evs = a.events(t, q)
		if k := ipChangeKinds(t, evs); len(k) != 2 || k[0] != "same_network" {
			t.Fatalf("ip.changed kinds %v, want same_network newest", k)
		}
		if len(withAction(evs, "device.mismatch")) != 0 {
			t.Fatal("device.mismatch for the same device")
		}

		// Someone else's machine, another browser, another network, with
		// the stolen refresh token: refused, and the session suspended.
		r = a.refreshAs(t, s2.Refresh, attacker, uaFirefoxLinux, deviceB())
		wantInvalidGrant.check(t, r)
		if junk := a.refresh(t, "junk", attacker, uaFirefoxLinux); string(junk.Body) != string(r.Body) {
			t.Fatalf("the refusal says more than any invalid_grant: %s vs %s", r.Body, junk.Body)
		}
		s := a.sessionOf(t, "hijackee", sid)
		if s == nil || s["state"] != "suspended" || s["suspended_at"] == nil {
			t.Fatalf("session after the hijack attempt: %v", s)
		}
		evs = a.events(t, q)
		if got := riskOf(t, evs, "hijack.suspected"); math.Abs(got-0.95) > 0.001 {
			t.Fatalf("hijack risk %v, want 0.95 (device 0.45 + UA 0.2 + network 0.3)", got)
		}
		if len(withAction(evs, "session.suspended")) != 1 || len(withAction(evs, "device.mismatch")) != 1 {
			t.Fatalf("audit after the hijack attempt: %v", evs)
		}
		// While suspended, nothing of the session works, for anyone.
		wantInvalidGrant.check(t, a.refreshAs(t, s2.Refresh, attacker, uaFirefoxLinux, deviceB()))
		wantInvalidGrant.check(t, a.refreshAs(t, s2.Refresh, cafe2, uaChromeWindows, dev))
		wantInactive.check(t, a.introspect(t, s2.Access))
		wantBadCred.check(t, a.do(t, areq{method: "GET", path: "/api/sessions", bearer: s2.Access}))
		// The suspended session cannot vouch for itself.
		wantBadCred.check(t, a.do(t, areq{method: "PATCH", path: "/api/sessions?" + q, bearer: s2.Access,
			json: map[string]any{"state": "active"}}))

		// The admin resumes it; the owner's device carries on.
		r = a.do(t, areq{method: "PATCH", path: "/api/sessions?" + q, bearer: adminKey, json: map[string]any{"state": "active"}})
		want{status: 200}.check(t, r)
		var pr struct {
			Session map[string]any `json:"session"`
		}
		if err := json.Unmarshal(r.Body, &pr); err != nil || pr.Session["state"] != "active" {
			t.Fatalf("PATCH answer %s", r.Body)
		}
		if s := a.sessionOf(t, "hijackee", sid); s == nil || s["state"] != "active" {
			t.Fatalf("after resume: %v", s)
		}
		if len(withAction(a.events(t, q), "session.resumed")) != 1 {
			t.Fatal("no session.resumed event")
		}
		r = a.refreshAs(t, s2.Refresh, cafe2, uaChromeWindows, dev)
		want{status: 200}.check(t, r)
		s3 := issuedOf(t, r)

		// A second attempt suspends it again; this time the user's other
		// session resumes it (SPEC: "the admin or the user's own other
		// session").
		wantInvalidGrant.check(t, a.refreshAs(t, s3.Refresh, attacker, uaFirefoxLinux, deviceB()))
		if s := a.sessionOf(t, "hijackee", sid); s["state"] != "suspended" {
			t.Fatalf("not suspended again: %v", s)
		}
		want{status: 200}.check(t, a.do(t, areq{method: "PATCH", path: "/api/sessions?" + q, bearer: other.Access,
			json: map[string]any{"state": "active"}}))
		want{status: 200}.check(t, a.refreshAs(t, s3.Refresh, cafe2, uaChromeWindows, dev))
	})
}

// Each weight's effect over HTTP: one fresh session per row, created on
// the row's home network with device A and Chrome on Windows, then one
// refresh that changes what the row says. The score is read back from the
// audit (token.rotated when it passed, hijack.suspected when refused).
func TestAdversarialRiskWeights(t *testing.T) {
	eachAdv(t, map[string]string{"SESSION_RATE_LIMIT_SCALE": "1"}, func(t *testing.T, a *advServer) {
		devA, devB := deviceA(), deviceB()
		updated := deviceA() // a browser and OS update: the same machine
		updated["browser_version"], updated["os_version"] = "127.0", "11"
		simUpd := similarity(t, devA, updated)
		if simUpd < 0.8 || simUpd >= 1 {
			t.Fatalf("an update's similarity %v should stay above the threshold", simUpd)
		}
		if s := similarity(t, devA, devB); s != 0 {
			t.Fatalf("device B should share nothing with A: %v", s)
		}
		type row struct {
			name     string
			near     bool           // a new IP in the home /24
			far      bool           // a new network
			ua       string         // "" = the home one
			device   map[string]any // nil = device A
			cadence  bool           // 12 quick refreshes first
			failures int            // bad refresh tokens from the refreshing IP first
			score    float64
			mismatch bool   // device.mismatch written
			ipKind   string // ip.changed kind, "" = none
		}
		rows := []row{
			{name: "nothing changed", score: 0},
			{name: "new IP in the same /24", near: true, score: 0.05, ipKind: "same_network"},
			{name: "new network", far: true, score: 0.3, ipKind: "new_network"},
			{name: "user-agent family", ua: uaFirefoxLinux, score: 0.2},
			{name: "browser and OS update", device: updated, score: 0.45 * (1 - simUpd)},
			{name: "wholly different device", device: devB, score: 0.45, mismatch: true},
			{name: "new device and browser, same network", device: devB, ua: uaFirefoxLinux, score: 0.65, mismatch: true},
			{name: "new browser on a new network", ua: uaFirefoxLinux, far: true, score: 0.5, ipKind: "new_network"},
			{name: "new device on a new network", device: devB, far: true, score: 0.75, mismatch: true, ipKind: "new_network"},
			{name: "everything new", device: devB, ua: uaFirefoxLinux, far: true, score: 0.95, mismatch: true, ipKind: "new_network"},
			{name: "cadence alone", cadence: true, score: 0.25},
			{name: "cadence tips a new browser on a new network", cadence: true, ua: uaFirefoxLinux, far: true, score: 0.75, ipKind: "new_network"},
			{name: "2 failures from the IP", failures: 2, ua: uaFirefoxLinux, far: true, score: 0.5 + 0.3*2/5, ipKind: "new_network"},
			{name: "5 failures from the IP tip it", failures: 5, ua: uaFirefoxLinux, far: true, score: 0.8, ipKind: "new_network"},
		}
		for i, rw := range rows {
			t.Run(rw.name, func(t *testing.T) {
				home := fmt.Sprintf("127.0.%d.1", 20+i)
				from := home
				switch {
				case rw.near:
					from = fmt.Sprintf("127.0.%d.2", 20+i)
				case rw.far:
					from = fmt.Sprintf("127.%d.0.1", 100+i)
				}
				ua := uaChromeWindows
				if rw.ua != "" {
					ua = rw.ua
				}
				dev := devA
				if rw.device != nil {
					dev = rw.device
				}
				user := fmt.Sprintf("weights-%d", i)
				tk := a.create(t, user, map[string]any{"device": devA}, home, uaChromeWindows)
				rt := tk.Refresh
				if rw.cadence {
					for j := 0; j < 12; j++ {
						r := a.refreshAs(t, rt, home, uaChromeWindows, devA)
						want{status: 200}.check(t, r)
						rt = issuedOf(t, r).Refresh
					}
				}
				for j := 0; j < rw.failures; j++ {
					wantInvalidGrant.check(t, a.refresh(t, fmt.Sprintf("stolen-guess-%d", j), from, ua))
				}
				r := a.refreshAs(t, rt, from, ua, dev)
				blocked := rw.score >= 0.7
				action := "token.rotated"
				if blocked {
					wantInvalidGrant.check(t, r)
					action = "hijack.suspected"
				} else {
					want{status: 200}.check(t, r)
				}
				evs := a.events(t, "session_id="+tk.SessionID)
				if got := riskOf(t, evs, action); math.Abs(got-rw.score) > 0.0011 {
					t.Fatalf("risk %v, want %v", got, rw.score)
				}
				if got := len(withAction(evs, "device.mismatch")) > 0; got != rw.mismatch {
					t.Fatalf("device.mismatch written: %v, want %v", got, rw.mismatch)
				}
				kinds := ipChangeKinds(t, evs)
				if (rw.ipKind == "" && len(kinds) != 0) || (rw.ipKind != "" && (len(kinds) != 1 || kinds[0] != rw.ipKind)) {
					t.Fatalf("ip.changed %v, want %q", kinds, rw.ipKind)
				}
				state := "active"
				if blocked {
					state = "suspended"
				}
				if s := a.sessionOf(t, user, tk.SessionID); s == nil || s["state"] != state {
					t.Fatalf("session %v, want state %s", s, state)
				}
			})
		}
	})
}
