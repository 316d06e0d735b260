package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var cookieEnv = map[string]string{"SESSION_COOKIE_MODE": "1", "SESSION_ALLOWED_ORIGINS": "https://app.example.com"}

// refreshCookie finds the refresh cookie a response set (either name).
func refreshCookie(t *testing.T, r *resp) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "sessiond_rt" || c.Name == "__Host-sessiond_rt" {
			return c
		}
	}
	return nil
}

func browserHeaders(origin string) map[string]string {
	return map[string]string{"Origin": origin, "X-Sessiond-CSRF": "1"}
}

func TestCookieMode(t *testing.T) {
	s := newServer(t, serverOpts{env: cookieEnv})
	self := s.URL // the server's own origin

	r := s.do(req{method: "POST", path: "/api/sessions", bearer: adminKey, json: map[string]any{"user_id": "mia"}})
	expect(t, r, http.StatusCreated, "")
	if _, ok := r.JSON(t)["refresh_token"]; ok {
		t.Fatal("cookie mode wrote the refresh token in the body")
	}
	ck := refreshCookie(t, r)
	if ck == nil {
		t.Fatalf("no refresh cookie: %v", r.Header)
	}
	raw := r.Header.Get("Set-Cookie")
	// Plain HTTP on loopback: the dev name, without Secure.
	if ck.Name != "sessiond_rt" || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" ||
		ck.Secure || ck.MaxAge <= 0 || ck.Domain != "" {
		t.Fatalf("cookie %q", raw)
	}
	if !strings.Contains(s.logs.String(), "without Secure") {
		t.Fatal("the insecure dev cookie was not logged")
	}
	if float64(ck.MaxAge) != r.JSON(t)["refresh_expires_in"] {
		t.Fatalf("Max-Age %d != refresh_expires_in %v", ck.MaxAge, r.JSON(t)["refresh_expires_in"])
	}

	// CSRF: the cookie alone is not enough.
	refreshWith := func(h map[string]string, c *http.Cookie) *resp {
		return s.do(req{method: "POST", path: "/api/refresh", json: map[string]any{}, headers: h, cookies: []*http.Cookie{c}})
	}
	expect(t, refreshWith(map[string]string{"Origin": self}, ck), 403, "forbidden")
	expect(t, refreshWith(map[string]string{"X-Sessiond-CSRF": "1"}, ck), 403, "forbidden")
	expect(t, refreshWith(browserHeaders("https://evil.example.net"), ck), 403, "forbidden")
	expect(t, refreshWith(browserHeaders("null"), ck), 403, "forbidden")
	expect(t, refreshWith(map[string]string{"Origin": self, "X-Sessiond-CSRF": "true"}, ck), 403, "forbidden")

	// Same origin with the header: rotated, new cookie, no token in the body.
	r = refreshWith(browserHeaders(self), ck)
	expect(t, r, http.StatusOK, "")
	if _, ok := r.JSON(t)["refresh_token"]; ok {
		t.Fatal("refresh wrote the refresh token in the body")
	}
	ck2 := refreshCookie(t, r)
	if ck2 == nil || ck2.Value == ck.Value {
		t.Fatal("refresh did not rotate the cookie")
	}
	// An allowed cross origin works too.
	r = refreshWith(browserHeaders("https://app.example.com"), ck2)
	expect(t, r, http.StatusOK, "")
	ck3 := refreshCookie(t, r)
	if r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatal("cookie mode CORS without credentials")
	}

	// Without a cookie or a token: invalid_request.
	expect(t, s.do(req{method: "POST", path: "/api/refresh", json: map[string]any{}, headers: browserHeaders(self)}), 400, "invalid_request")

	// Revoke by cookie: 200 {}, cookie cleared, session over.
	r = s.do(req{method: "POST", path: "/api/revoke", json: map[string]any{}, headers: browserHeaders(self), cookies: []*http.Cookie{ck3}})
	expect(t, r, http.StatusOK, "")
	if strings.TrimSpace(string(r.Body)) != "{}" {
		t.Fatalf("revoke body %s", r.Body)
	}
	if c := refreshCookie(t, r); c == nil || c.MaxAge >= 0 {
		t.Fatalf("revoke did not clear the cookie: %v", r.Header)
	}
	// The dead cookie: invalid_grant, and the cookie is cleared again.
	r = refreshWith(browserHeaders(self), ck3)
	expect(t, r, http.StatusBadRequest, "invalid_grant")
	if c := refreshCookie(t, r); c == nil || c.MaxAge >= 0 {
		t.Fatal("invalid_grant did not clear the cookie")
	}
	// A cookie-mode revoke without CSRF proof is refused and changes nothing.
	r = s.do(req{method: "POST", path: "/api/sessions", bearer: adminKey, json: map[string]any{"user_id": "mia"}})
	live := refreshCookie(t, r)
	expect(t, s.do(req{method: "POST", path: "/api/revoke", json: map[string]any{}, cookies: []*http.Cookie{live}}), 403, "forbidden")
	if !s.active(live.Value) {
		t.Fatal("a refused revoke ended the session")
	}
	// Browser creates (code / id_token) need the CSRF proof too.
	expect(t, s.do(req{method: "POST", path: "/api/sessions", json: map[string]any{"id_token": "a.b.c"}}), 403, "forbidden")
	expect(t, s.do(req{method: "POST", path: "/api/sessions", json: map[string]any{"id_token": "a.b.c"}, headers: browserHeaders(self)}),
		401, "unauthorized") // past CSRF: no provider configured
}

// Over TLS the cookie is __Host-sessiond_rt with Secure.
func TestCookieModeTLS(t *testing.T) {
	s := newServer(t, serverOpts{env: cookieEnv, tls: true})
	r := s.do(req{method: "POST", path: "/api/sessions", bearer: adminKey, json: map[string]any{"user_id": "ned"}})
	expect(t, r, http.StatusCreated, "")
	ck := refreshCookie(t, r)
	if ck == nil || ck.Name != "__Host-sessiond_rt" || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("cookie %q", r.Header.Get("Set-Cookie"))
	}
	r = s.do(req{method: "POST", path: "/api/refresh", json: map[string]any{}, headers: browserHeaders(s.URL), cookies: []*http.Cookie{ck}})
	expect(t, r, http.StatusOK, "")
	// The dev name is not read over TLS.
	dev := &http.Cookie{Name: "sessiond_rt", Value: refreshCookie(t, r).Value}
	expect(t, s.do(req{method: "POST", path: "/api/refresh", json: map[string]any{}, headers: browserHeaders(s.URL), cookies: []*http.Cookie{dev}}),
		400, "invalid_request")
}

// The dev routes: sign-in without a credential, and the app's config.
func TestDevRoutes(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{{"token mode", nil}, {"cookie mode", cookieEnv}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, serverOpts{env: tc.env})
			mux := http.NewServeMux()
			mux.HandleFunc("/dev/sign-in", s.app.DevSignIn)
			mux.HandleFunc("/dev/config", s.app.DevConfig)
			mux.Handle("/", s.app.Handler())
			dev := httptest.NewServer(mux)
			defer dev.Close()
			s.Server = dev
			cookie := tc.env != nil

			r := s.do(req{method: "GET", path: "/dev/config"})
			expect(t, r, http.StatusOK, "")
			if m := r.JSON(t); m["cookie_mode"] != cookie || m["provider"] != false {
				t.Fatalf("dev config %s", r.Body)
			}
			r = s.do(req{method: "POST", path: "/dev/sign-in", json: map[string]any{"user_id": "olga", "device": map[string]any{"os": "Linux"}},
				headers: browserHeaders(dev.URL)})
			expect(t, r, http.StatusCreated, "")
			if (refreshCookie(t, r) != nil) != cookie {
				t.Fatalf("cookie set %v in %s", refreshCookie(t, r) != nil, tc.name)
			}
			expect(t, s.do(req{method: "POST", path: "/dev/sign-in", json: map[string]any{}, headers: browserHeaders(dev.URL)}), 400, "invalid_request")
			expect(t, s.do(req{method: "POST", path: "/dev/sign-in", json: map[string]any{"user_id": "x"},
				headers: browserHeaders("https://evil.example.net")}), 403, "forbidden")
		})
	}
	t.Run("refused on Vercel", func(t *testing.T) {
		for _, env := range []string{"production", "preview"} {
			s := newServer(t, serverOpts{env: map[string]string{"VERCEL_ENV": env,
				"SESSION_JWT_PRIVATE_KEY": testPrivateKeyPEM, "SESSION_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
				"REDIS_URL": "redis://127.0.0.1:1/0"}})
			h := http.HandlerFunc(s.app.DevSignIn)
			w := httptest.NewRecorder()
			rq := httptest.NewRequest("POST", "/dev/sign-in", strings.NewReader(`{"user_id":"x"}`))
			rq.Header.Set("Content-Type", "application/json")
			h(w, rq)
			if w.Code != http.StatusNotFound {
				t.Fatalf("VERCEL_ENV=%s: dev sign-in answered %d: %s", env, w.Code, w.Body)
			}
		}
	})
}

// An Ed25519 PKCS#8 key for the tests that need VERCEL_ENV (keys required).
const testPrivateKeyPEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEILYZK77xR4zz9N7+1AknFcItKcSzJApgo06VuBU84anv
-----END PRIVATE KEY-----`
