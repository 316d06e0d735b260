package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		policy  ipPolicy
		remote  string
		headers map[string][]string
		want    string // "" = unknown
	}{
		{"peer", ipPolicy{}, "203.0.113.9:1234", nil, "203.0.113.9"},
		{"peer v6", ipPolicy{}, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"peer mapped v4", ipPolicy{}, "[::ffff:198.51.100.7]:80", nil, "198.51.100.7"},
		{"spoofed xff ignored", ipPolicy{}, "203.0.113.9:1", map[string][]string{"X-Forwarded-For": {"1.2.3.4"}}, "203.0.113.9"},
		{"spoofed x-real-ip ignored locally", ipPolicy{}, "203.0.113.9:1", map[string][]string{"X-Real-Ip": {"1.2.3.4"}}, "203.0.113.9"},
		{"trusted proxy", ipPolicy{trustProxy: true}, "127.0.0.1:5", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"right-most untrusted", ipPolicy{trustProxy: true}, "127.0.0.1:5",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.1, 10.0.0.2"}}, "198.51.100.1"},
		{"several headers", ipPolicy{trustProxy: true}, "127.0.0.1:5",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6", "198.51.100.1"}}, "198.51.100.1"},
		{"garbage hop skipped", ipPolicy{trustProxy: true}, "127.0.0.1:5",
			map[string][]string{"X-Forwarded-For": {"198.51.100.1, not-an-ip"}}, "198.51.100.1"},
		{"all internal: left-most", ipPolicy{trustProxy: true}, "127.0.0.1:5",
			map[string][]string{"X-Forwarded-For": {"192.168.1.5, 10.0.0.2"}}, "192.168.1.5"},
		{"only garbage: peer", ipPolicy{trustProxy: true}, "127.0.0.1:5",
			map[string][]string{"X-Forwarded-For": {"<script>, 999.1.1.1"}}, "127.0.0.1"},
		{"vercel x-real-ip", ipPolicy{onVercel: true}, "10.1.1.1:1",
			map[string][]string{"X-Real-Ip": {"198.51.100.2"}, "X-Forwarded-For": {"6.6.6.6"}}, "198.51.100.2"},
		{"vercel forwarded-for", ipPolicy{onVercel: true}, "10.1.1.1:1",
			map[string][]string{"X-Vercel-Forwarded-For": {"198.51.100.3, 10.0.0.1"}}, "198.51.100.3"},
		{"vercel bad header: unknown", ipPolicy{onVercel: true}, "10.1.1.1:1",
			map[string][]string{"X-Real-Ip": {"nope"}}, ""},
		{"vercel ignores xff", ipPolicy{onVercel: true, trustProxy: true}, "10.1.1.1:1",
			map[string][]string{"X-Forwarded-For": {"6.6.6.6"}}, ""},
		{"zone dropped", ipPolicy{trustProxy: true}, "127.0.0.1:5",
			map[string][]string{"X-Forwarded-For": {"fe80::1%eth0, 2001:db8::7"}}, "2001:db8::7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for k, vs := range tc.headers {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			got := tc.policy.clientIP(r)
			if tc.want == "" {
				if got.IsValid() {
					t.Fatalf("got %v, want unknown", got)
				}
				return
			}
			if got != netip.MustParseAddr(tc.want) {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
}
