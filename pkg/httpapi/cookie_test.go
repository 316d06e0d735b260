package httpapi

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionkit/sessiond/pkg/config"
)

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		st      state
		host    string
		tls     bool
		headers map[string]string
		origin  string
		want    bool
	}{
		{"local http", state{}, "127.0.0.1:3000", false, nil, "http://127.0.0.1:3000", true},
		{"local wrong port", state{}, "127.0.0.1:3000", false, nil, "http://127.0.0.1:3001", false},
		{"local https", state{}, "auth.example.com", true, nil, "https://auth.example.com", true},
		{"scheme matters", state{}, "auth.example.com", true, nil, "http://auth.example.com", false},
		{"forwarded ignored locally", state{}, "127.0.0.1:3000", false,
			map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}, "https://evil.example", false},
		{"trusted proxy", state{ip: ipPolicy{trustProxy: true}}, "10.0.0.5:3000", false,
			map[string]string{"X-Forwarded-Host": "auth.example.com", "X-Forwarded-Proto": "https"}, "https://auth.example.com", true},
		{"vercel https by default", state{vercel: true}, "auth.example.com", false, nil, "https://auth.example.com", true},
		{"vercel dev over http", state{vercel: true}, "localhost:3000", false,
			map[string]string{"X-Forwarded-Proto": "http"}, "http://localhost:3000", true},
		{"null origin", state{}, "127.0.0.1:3000", false, nil, "null", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/api/refresh", nil)
			r.Host = tc.host
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			st := tc.st
			st.cfg = &config.Config{CookieMode: true}
			c := &call{st: &st, r: r}
			if got := c.sameOrigin(tc.origin); got != tc.want {
				t.Fatalf("sameOrigin(%q) = %v", tc.origin, got)
			}
		})
	}
}
