package httpapi_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

func TestMethodNotAllowed(t *testing.T) {
	s := newServer(t, serverOpts{})
	cases := []struct{ method, path, allow string }{
		{"GET", "/api/refresh", "POST, OPTIONS"},
		{"PUT", "/api/sessions", "GET, POST, PATCH, DELETE, OPTIONS, HEAD"},
		{"POST", "/api/jwks", "GET, OPTIONS, HEAD"},
		{"DELETE", "/api/health", "GET, OPTIONS, HEAD"},
		{"POST", "/api/cron/cleanup", "GET, OPTIONS, HEAD"},
		{"GET", "/api/introspect", "POST, OPTIONS"},
	}
	for _, tc := range cases {
		r := s.do(req{method: tc.method, path: tc.path})
		expect(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
		if got := r.Header.Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
}

func TestBodyLimits(t *testing.T) {
	s := newServer(t, serverOpts{})
	huge := `{"user_id":"x","metadata":{"k":"` + strings.Repeat("a", 70<<10) + `"}}`
	expect(t, s.do(req{method: "POST", path: "/api/sessions", bearer: adminKey, raw: huge, contentType: "application/json"}),
		http.StatusRequestEntityTooLarge, "payload_too_large")
	expect(t, s.do(req{method: "POST", path: "/api/refresh", raw: "grant_type=refresh_token&refresh_token=" + strings.Repeat("a", 70<<10),
		contentType: "application/x-www-form-urlencoded"}), http.StatusRequestEntityTooLarge, "payload_too_large")
	for _, ct := range []string{"text/plain", "application/xml", "multipart/form-data; boundary=x", "application/json; charset=utf-16"} {
		expect(t, s.do(req{method: "POST", path: "/api/refresh", raw: `{"refresh_token":"x"}`, contentType: ct}),
			http.StatusUnsupportedMediaType, "unsupported_media_type")
	}
	expect(t, s.do(req{method: "POST", path: "/api/sessions", bearer: adminKey, raw: `{"user_id":"x"}`}),
		http.StatusUnsupportedMediaType, "unsupported_media_type")
	for name, body := range map[string]string{
		"garbage":  `{"user_id":"x"} trailing`,
		"utf-8":    "{\"user_id\":\"\xc3\x28\"}",
		"deep":     `{"user_id":"x","device":` + strings.Repeat(`{"a":`, 100) + `1` + strings.Repeat(`}`, 100) + `}`,
		"array":    `["user_id"]`,
		"bad json": `{"user_id":`,
	} {
		t.Run(name, func(t *testing.T) {
			expect(t, s.do(req{method: "POST", path: "/api/sessions", bearer: adminKey, raw: body, contentType: "application/json"}),
				http.StatusBadRequest, "invalid_request")
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newServer(t, serverOpts{})
	for _, r := range []*resp{
		s.do(req{method: "GET", path: "/api/health"}),
		s.do(req{method: "POST", path: "/api/refresh"}),
		s.do(req{method: "GET", path: "/api/nope"}),
		s.do(req{method: "PUT", path: "/api/revoke"}),
	} {
		h := r.Header
		if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "no-referrer" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("missing security headers: %v", h)
		}
	}
	r := s.do(req{method: "GET", path: "/api/jwks"})
	expect(t, r, http.StatusOK, "")
	if r.Header.Get("Cache-Control") != "public, max-age=300" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("jwks headers %v", r.Header)
	}
}

func TestCORSPreflight(t *testing.T) {
	s := newServer(t, serverOpts{env: map[string]string{"SESSION_ALLOWED_ORIGINS": "https://app.example.com"}})
	r := s.do(req{method: "OPTIONS", path: "/api/refresh", headers: map[string]string{
		"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "content-type"}})
	if r.Status != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "X-Sessiond-CSRF") ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight %d %v", r.Status, r.Header)
	}
	r = s.do(req{method: "OPTIONS", path: "/api/refresh", headers: map[string]string{
		"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"}})
	expect(t, r, http.StatusForbidden, "forbidden")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("disallowed origin got CORS headers")
	}
	r = s.do(req{method: "GET", path: "/api/health", headers: map[string]string{"Origin": "https://app.example.com"}})
	if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("simple CORS %v", r.Header)
	}
	r = s.do(req{method: "OPTIONS", path: "/api/sessions"})
	if r.Status != http.StatusNoContent || !strings.Contains(r.Header.Get("Allow"), "PATCH") {
		t.Fatalf("plain OPTIONS %d %v", r.Status, r.Header)
	}
}

func TestHealthAndJWKS(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		r := s.do(req{method: "GET", path: "/api/health"})
		expect(t, r, http.StatusOK, "")
		if m := r.JSON(t); m["status"] != "ok" || m["kv"] != "ok" {
			t.Fatalf("health %s", r.Body)
		}
		for _, p := range []string{"/api/jwks", "/.well-known/jwks.json"} {
			r = s.do(req{method: "GET", path: p})
			expect(t, r, http.StatusOK, "")
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(r.Body, &set); err != nil || len(set.Keys) == 0 {
				t.Fatalf("jwks %s", r.Body)
			}
			for _, k := range set.Keys {
				if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["kid"] == nil {
					t.Fatalf("key %v", k)
				}
				if _, ok := k["d"]; ok {
					t.Fatal("JWKS publishes a private key")
				}
			}
		}
	})
}

// With the store gone, /api/health answers 503 within its budget.
func TestHealthStoreDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // a port nobody listens on
	s := newServer(t, serverOpts{env: map[string]string{"REDIS_URL": "redis://" + addr + "/0"}})
	start := time.Now()
	r := s.do(req{method: "GET", path: "/api/health"})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("health took %v with the store down", elapsed)
	}
	expect(t, r, http.StatusServiceUnavailable, "unavailable")
	if m := r.JSON(t); m["status"] != "degraded" || m["kv"] != "unavailable" {
		t.Fatalf("health %s", r.Body)
	}
	// Other endpoints: 503 unavailable, with Retry-After.
	expect(t, s.do(req{method: "POST", path: "/api/sessions", bearer: adminKey, json: map[string]any{"user_id": "x"}}),
		http.StatusServiceUnavailable, "unavailable")
}

func TestBadConfiguration(t *testing.T) {
	s := newServer(t, serverOpts{env: map[string]string{"SESSION_IDLE_TIMEOUT": "soon"}})
	for i := 0; i < 2; i++ {
		r := s.do(req{method: "GET", path: "/api/health"})
		expect(t, r, http.StatusServiceUnavailable, "unavailable")
		if !strings.Contains(r.Str(t, "error_description"), "SESSION_IDLE_TIMEOUT") {
			t.Fatalf("503 does not name the variable: %s", r.Body)
		}
		expect(t, s.do(req{method: "POST", path: "/api/refresh"}), http.StatusServiceUnavailable, "unavailable")
	}
	if n := strings.Count(s.logs.String(), "bad configuration"); n != 1 {
		t.Fatalf("bad configuration logged %d times, want once:\n%s", n, s.logs.String())
	}
	// A secret's value never appears in the answer or the log.
	s2 := newServer(t, serverOpts{env: map[string]string{"SESSION_ADMIN_KEY": "short-secret"}})
	r := s2.do(req{method: "GET", path: "/api/health"})
	expect(t, r, http.StatusServiceUnavailable, "unavailable")
	if strings.Contains(string(r.Body), "short-secret") || strings.Contains(s2.logs.String(), "short-secret") {
		t.Fatal("a secret leaked into an answer or a log line")
	}
}

func TestNotFound(t *testing.T) {
	s := newServer(t, serverOpts{})
	expect(t, s.do(req{method: "GET", path: "/api/whatever"}), http.StatusNotFound, "not_found")
}

func TestAdminEndpoints(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		tk := s.create("lee", nil)
		s.refresh(tk.Refresh)
		for _, p := range []string{"/api/audit", "/api/security/summary"} {
			expect(t, s.do(req{method: "GET", path: p}), 401, "unauthorized")
			expect(t, s.do(req{method: "GET", path: p, bearer: "wrong-key-wrong-key-wrong"}), 401, "unauthorized")
			expect(t, s.do(req{method: "GET", path: p, bearer: introspectKey}), 401, "unauthorized")
			expect(t, s.do(req{method: "GET", path: p, bearer: tk.Access}), 401, "unauthorized")
		}
		r := s.do(req{method: "GET", path: "/api/audit?user_id=lee&limit=500", bearer: adminKey})
		expect(t, r, http.StatusOK, "")
		evs, _ := r.JSON(t)["events"].([]any)
		if len(evs) == 0 || !hasAction(t, r, "session.created") {
			t.Fatalf("audit %s", r.Body)
		}
		for _, e := range evs {
			m, _ := e.(map[string]any)
			for _, k := range []string{"id", "time", "action", "user_id", "session_id", "ip", "user_agent", "risk_score", "details"} {
				if _, ok := m[k]; !ok {
					t.Fatalf("event lacks %s: %v", k, m)
				}
			}
		}
		if _, ok := r.JSON(t)["next"]; !ok {
			t.Fatal("audit page lacks next")
		}
		// Paging: limit=1 then before=next.
		r = s.do(req{method: "GET", path: "/api/audit?user_id=lee&limit=1", bearer: adminKey})
		expect(t, r, http.StatusOK, "")
		next, _ := r.JSON(t)["next"].(string)
		if next == "" {
			t.Fatalf("no next cursor: %s", r.Body)
		}
		r2 := s.do(req{method: "GET", path: "/api/audit?user_id=lee&limit=1&before=" + next, bearer: adminKey})
		expect(t, r2, http.StatusOK, "")
		if string(r2.Body) == string(r.Body) {
			t.Fatal("before= did not move to the next page")
		}
		for _, q := range []string{"limit=0", "limit=501", "limit=x", "limit=1&limit=2"} {
			expect(t, s.do(req{method: "GET", path: "/api/audit?" + q, bearer: adminKey}), 400, "invalid_request")
		}

		r = s.do(req{method: "GET", path: "/api/security/summary?window=1h", bearer: adminKey})
		expect(t, r, http.StatusOK, "")
		if len(r.JSON(t)) == 0 {
			t.Fatal("empty summary")
		}
		for _, w := range []string{"x", "0s", "-1h", "100000h"} {
			expect(t, s.do(req{method: "GET", path: "/api/security/summary?window=" + w, bearer: adminKey}), 400, "invalid_request")
		}
	})
}

func TestCronCleanup(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		expect(t, s.do(req{method: "GET", path: "/api/cron/cleanup"}), 401, "unauthorized")
		expect(t, s.do(req{method: "GET", path: "/api/cron/cleanup", bearer: adminKey}), 401, "unauthorized")
		expect(t, s.do(req{method: "GET", path: "/api/cron/cleanup", bearer: cronSecret + "x"}), 401, "unauthorized")
		r := s.do(req{method: "GET", path: "/api/cron/cleanup", bearer: cronSecret})
		expect(t, r, http.StatusOK, "")
		m := r.JSON(t)
		for _, k := range []string{"audit_pruned", "index_pruned", "duration_ms"} {
			if _, ok := m[k].(float64); !ok {
				t.Fatalf("cleanup answer lacks %s: %s", k, r.Body)
			}
		}
	})
	// Without CRON_SECRET the cron is refused whatever is sent.
	s := newServer(t, serverOpts{env: map[string]string{"CRON_SECRET": ""}})
	expect(t, s.do(req{method: "GET", path: "/api/cron/cleanup", bearer: cronSecret}), 401, "unauthorized")
	expect(t, s.do(req{method: "GET", path: "/api/cron/cleanup", bearer: ""}), 401, "unauthorized")
}

// Default is the App the api/ functions use; it must be one per process.
func TestDefaultIsShared(t *testing.T) {
	first, second := httpapi.Default(), httpapi.Default()
	if first != second {
		t.Fatal("Default returned two Apps")
	}
}

// Wrong keys and bad refresh tokens from one IP end in a lockout: 429 with
// Retry-After (the limits themselves are pkg/session's; this checks the
// HTTP answer).
func TestLockoutOverHTTP(t *testing.T) {
	eachStore(t, map[string]string{"SESSION_RATE_LIMIT_SCALE": "1"}, func(t *testing.T, s *server) {
		got429 := false
		for i := 0; i < 20 && !got429; i++ {
			r := s.do(req{method: "GET", path: "/api/audit", bearer: "guessed-admin-key-guessed-key"})
			switch r.Status {
			case http.StatusUnauthorized:
				expect(t, r, 401, "unauthorized")
			case http.StatusTooManyRequests:
				expect(t, r, 429, "rate_limited")
				got429 = true
			default:
				t.Fatalf("unexpected %d", r.Status)
			}
		}
		if !got429 {
			t.Fatal("20 wrong admin keys from one IP never locked it out")
		}
		got429 = false
		for i := 0; i < 40 && !got429; i++ {
			r := s.refresh("srt_forged-token-" + strings.Repeat("x", i))
			got429 = r.Status == http.StatusTooManyRequests
			if got429 {
				expect(t, r, 429, "rate_limited")
			} else {
				expect(t, r, 400, "invalid_grant")
			}
		}
		if !got429 {
			t.Fatal("40 bad refresh tokens from one IP never locked it out")
		}
	})
}
