package httpapi_test

// Spoofed forwarding headers. The client IP feeds rate limits, lockouts,
// hijack detection and the audit, so it must come only from what the
// client cannot choose (pkg/httpapi/clientip.go):
//
//   - by default: the socket peer; X-Forwarded-For, X-Real-Ip and the
//     like are ignored whatever they say;
//   - SESSION_TRUST_PROXY=1 (behind a proxy the operator runs): the
//     right-most X-Forwarded-For entry that is not an internal address;
//   - on Vercel (VERCEL=1 or VERCEL_ENV set): x-real-ip, else the first
//     x-vercel-forwarded-for entry; never X-Forwarded-For, never the peer
//     (Vercel's proxy, shared by everyone).

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// spoofHeaders is every forwarding header a client might forge.
func spoofHeaders(ip string) map[string]string {
	return map[string]string{
		"X-Forwarded-For": ip, "X-Real-Ip": ip, "X-Vercel-Forwarded-For": ip, "Forwarded": "for=" + ip,
		"True-Client-Ip": ip, "Cf-Connecting-Ip": ip, "X-Client-Ip": ip, "X-Cluster-Client-Ip": ip,
	}
}

// createdIP creates a session for user with headers and returns the IP the
// listing and the audit recorded for it ("" when unknown).
func createdIP(t *testing.T, a *advServer, user string, headers map[string]string) string {
	t.Helper()
	r := a.do(t, areq{method: "POST", path: "/api/sessions", bearer: adminKey, json: map[string]any{"user_id": user}, headers: headers})
	want{status: 201}.check(t, r)
	s := a.sessionsOf(t, user)
	if len(s) != 1 {
		t.Fatalf("%d sessions of %s", len(s), user)
	}
	ip, _ := s[0]["ip"].(string)
	evs := withAction(a.events(t, "user_id="+url.QueryEscape(user)), "session.created")
	if len(evs) != 1 {
		t.Fatalf("%d session.created events", len(evs))
	}
	if got := evs[0].IP; (ip == "" && got != nil) || (ip != "" && (got == nil || *got != ip)) {
		t.Fatalf("the audit says ip %s, the listing %q", strOf(got), ip)
	}
	return ip
}

// lockOut sends bad refresh tokens with headers from the socket address
// from until the lockout answers (the threshold is 10 at scale 1), checking
// every answer, and returns how many were refused as invalid_grant first.
func lockOut(t *testing.T, a *advServer, from string, headers func(i int) map[string]string) int {
	t.Helper()
	for i := 0; i < 30; i++ {
		r := a.do(t, areq{method: "POST", path: "/api/refresh", from: from, headers: headers(i),
			form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {fmt.Sprintf("guessed-token-%04d", i)}}})
		if r.Status == http.StatusTooManyRequests {
			want{status: 429, code: "rate_limited"}.check(t, r)
			return i
		}
		wantInvalidGrant.check(t, r)
	}
	t.Fatal("30 bad refresh tokens never locked the client out")
	return 0
}

func badRefresh(t *testing.T, a *advServer, from string, headers map[string]string) *resp {
	t.Helper()
	return a.do(t, areq{method: "POST", path: "/api/refresh", from: from, headers: headers,
		form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"guessed-token-x"}}})
}

// lockoutKeys are the keys the audit's rate_limit.lockout events name.
func lockoutKeys(t *testing.T, a *advServer) []string {
	t.Helper()
	var keys []string
	for _, e := range withAction(a.events(t, ""), "rate_limit.lockout") {
		keys = append(keys, string(e.Details))
	}
	return keys
}

func TestAdversarialSpoofedForwardedFor(t *testing.T) {
	limits := map[string]string{"SESSION_RATE_LIMIT_SCALE": "1"}

	t.Run("default: the socket peer", func(t *testing.T) {
		eachAdv(t, limits, func(t *testing.T, a *advServer) {
			if ip := createdIP(t, a, "spoofer", spoofHeaders("203.0.113.7")); ip != "127.0.0.1" {
				t.Fatalf("client IP %q: a forged header was trusted", ip)
			}
			// A fresh forged X-Forwarded-For per request does not escape
			// the lockout of the real peer...
			n := lockOut(t, a, "", func(i int) map[string]string { return spoofHeaders(fmt.Sprintf("198.51.100.%d", i+1)) })
			if n != 10 {
				t.Fatalf("locked out after %d failures, want 10", n)
			}
			want{status: 429, code: "rate_limited"}.check(t, badRefresh(t, a, "", spoofHeaders("192.0.2.200")))
			// ...while another real peer is served.
			wantInvalidGrant.check(t, badRefresh(t, a, "127.0.0.2", nil))
			for _, k := range lockoutKeys(t, a) {
				if !strings.Contains(k, `"refresh.fail:127.0.0.1"`) {
					t.Fatalf("a lockout keyed by something else than the peer: %s", k)
				}
			}
			if len(lockoutKeys(t, a)) == 0 {
				t.Fatal("no rate_limit.lockout event")
			}
		})
	})

	t.Run("SESSION_TRUST_PROXY=1: X-Forwarded-For", func(t *testing.T) {
		env := map[string]string{"SESSION_RATE_LIMIT_SCALE": "1", "SESSION_TRUST_PROXY": "1"}
		eachAdv(t, env, func(t *testing.T, a *advServer) {
			for _, c := range []struct {
				name    string
				headers map[string]string
				ip      string
			}{
				// The client wrote the left entry, our proxy appended the right one.
				{"client-forged entry left of the proxy's", map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}, "203.0.113.7"},
				{"a single public entry", map[string]string{"X-Forwarded-For": "198.51.100.1"}, "198.51.100.1"},
				{"internal hops only: the left-most", map[string]string{"X-Forwarded-For": "10.1.2.3, 127.0.0.1"}, "10.1.2.3"},
				{"garbage: the peer", map[string]string{"X-Forwarded-For": "not-an-ip, <script>"}, "127.0.0.1"},
				{"X-Real-Ip is not ours to trust here", map[string]string{"X-Real-Ip": "203.0.113.99"}, "127.0.0.1"},
			} {
				user := "proxied-" + strings.ReplaceAll(c.name, " ", "-")
				if ip := createdIP(t, a, user, c.headers); ip != c.ip {
					t.Fatalf("%s: client IP %q, want %q", c.name, ip, c.ip)
				}
				advCases.Add(1)
			}
			// The lockout follows the forwarded IP, not the shared peer.
			n := lockOut(t, a, "", func(int) map[string]string { return map[string]string{"X-Forwarded-For": "203.0.113.50"} })
			if n != 10 {
				t.Fatalf("locked out after %d failures, want 10", n)
			}
			wantInvalidGrant.check(t, badRefresh(t, a, "", map[string]string{"X-Forwarded-For": "203.0.113.51"}))
			wantInvalidGrant.check(t, badRefresh(t, a, "", nil))
		})
	})

	t.Run("VERCEL=1: x-real-ip", func(t *testing.T) {
		env := map[string]string{"SESSION_RATE_LIMIT_SCALE": "1", "VERCEL": "1"}
		eachAdv(t, env, func(t *testing.T, a *advServer) {
			for _, c := range []struct {
				name    string
				headers map[string]string
				ip      string
			}{
				{"x-real-ip over X-Forwarded-For", map[string]string{"X-Real-Ip": "192.0.2.44", "X-Forwarded-For": "203.0.113.7"}, "192.0.2.44"},
				{"x-vercel-forwarded-for, first entry", map[string]string{"X-Vercel-Forwarded-For": "192.0.2.45, 10.0.0.1"}, "192.0.2.45"},
				// Only X-Forwarded-For: the client wrote it; the peer is
				// Vercel's proxy. Unknown is the safe answer.
				{"X-Forwarded-For alone: unknown", map[string]string{"X-Forwarded-For": "203.0.113.7"}, ""},
			} {
				if ip := createdIP(t, a, "vercel-"+strings.ReplaceAll(c.name, " ", "-"), c.headers); ip != c.ip {
					t.Fatalf("%s: client IP %q, want %q", c.name, ip, c.ip)
				}
				advCases.Add(1)
			}
			n := lockOut(t, a, "", func(i int) map[string]string {
				return map[string]string{"X-Real-Ip": "192.0.2.60", "X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1)}
			})
			if n != 10 {
				t.Fatalf("locked out after %d failures, want 10", n)
			}
			wantInvalidGrant.check(t, badRefresh(t, a, "", map[string]string{"X-Real-Ip": "192.0.2.61"}))
		})
	})
}
