package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNormalizeOrigin(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"https://App.Example.com":     "https://app.example.com",
		"https://app.example.com/":    "https://app.example.com",
		"https://app.example.com:443": "https://app.example.com",
		"http://localhost:5173":       "http://localhost:5173",
		"http://[::1]:3000":           "http://[::1]:3000",
		"null":                        "",
		"*":                           "",
		"https://a.example.com/path":  "",
		"ftp://a.example.com":         "",
		"https://u:p@a.example.com":   "",
		"https://a.example.com?x=1":   "",
		"":                            "",
	}
	for in, want := range cases {
		got, ok := normalizeOrigin(in)
		if ok != (want != "") || got != want {
			t.Errorf("normalizeOrigin(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	p := newCORSPolicy([]string{"https://app.example.com"}, false)
	methods := []string{http.MethodPost}

	t.Run("preflight allowed", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodOptions, "/api/refresh", nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "content-type, x-sessiond-csrf")
		w := httptest.NewRecorder()
		if !p.apply(w, r, methods) {
			t.Fatal("preflight not answered")
		}
		h := w.Header()
		if w.Code != 204 || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			h.Get("Access-Control-Allow-Methods") != "POST, OPTIONS" ||
			h.Get("Access-Control-Allow-Headers") != corsAllowHeaders ||
			h.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("preflight answer %d %v", w.Code, h)
		}
	})
	t.Run("preflight refused", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodOptions, "/api/refresh", nil)
		r.Header.Set("Origin", "https://evil.example.net")
		r.Header.Set("Access-Control-Request-Method", "POST")
		w := httptest.NewRecorder()
		if !p.apply(w, r, methods) {
			t.Fatal("preflight not answered")
		}
		if w.Code != 403 || w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("got %d %v", w.Code, w.Header())
		}
	})
	t.Run("simple request allowed", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/api/refresh", nil)
		r.Header.Set("Origin", "https://APP.example.com")
		w := httptest.NewRecorder()
		if p.apply(w, r, methods) {
			t.Fatal("a simple request must go on to the handler")
		}
		if w.Header().Get("Access-Control-Allow-Origin") != "https://APP.example.com" || w.Header().Get("Vary") != "Origin" {
			t.Fatalf("headers %v", w.Header())
		}
	})
	t.Run("simple request from elsewhere gets no CORS headers", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/api/refresh", nil)
		r.Header.Set("Origin", "https://app.example.com.evil.net")
		w := httptest.NewRecorder()
		p.apply(w, r, methods)
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("headers %v", w.Header())
		}
	})
	t.Run("credentials in cookie mode", func(t *testing.T) {
		pc := newCORSPolicy([]string{"https://app.example.com"}, true)
		r := httptest.NewRequest(http.MethodPost, "/api/refresh", nil)
		r.Header.Set("Origin", "https://app.example.com")
		w := httptest.NewRecorder()
		pc.apply(w, r, methods)
		if w.Header().Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("headers %v", w.Header())
		}
	})
}
