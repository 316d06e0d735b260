package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/httpapi"
	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
	"github.com/sessionkit/sessiond/pkg/session"
)

// The handler benchmarks run whole requests through App.Handler with
// httptest (no network between client and handler), against the embedded
// store and, with REDIS_URL set, real Redis. What they add to the session
// benchmarks is the HTTP layer: body reading and decoding, the key checks,
// the response encoding. Rate limits are on (the defaults), as in
// production; compare runs with benchstat (docs/performance.md).

// benchDevice is the fingerprint the load generator sends (cmd/loadgen).
const benchDevice = `{"user_agent":"Mozilla/5.0 (X11; Linux x86_64) loadgen","platform":"Linux x86_64",` +
	`"os":"Linux","browser":"Firefox","browser_version":"128.0","device_type":"desktop","language":"en-US",` +
	`"timezone":"Europe/Paris","timezone_offset":-60,"screen_width":1920,"screen_height":1080,"color_depth":24,` +
	`"pixel_ratio":1,"hardware_concurrency":8,"cookies_enabled":true}`

func benchApp(b *testing.B, tr kvtest.Named) http.Handler {
	b.Helper()
	env := baseEnv()
	opts := []httpapi.Option{
		httpapi.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		httpapi.WithStore(tr.Client, kv.Info{Transport: tr.Name}),
		httpapi.WithSessionConfig(func(c *session.Config) {
			// Default limits, scaled up so that a long run does not trip
			// them: every rule is still evaluated and written.
			scale := 1000.0
			c.RateLimitScale = &scale
			if tr.Real {
				c.KeyPrefix = kvtest.Prefix(b)
			}
		}),
	}
	app := httpapi.New(func(k string) string { return env[k] }, opts...)
	b.Cleanup(func() { _ = app.Close() })
	return app.Handler()
}

// benchStores are the embedded store and, with REDIS_URL, real Redis.
func benchStores(b *testing.B) []kvtest.Named {
	var out []kvtest.Named
	for _, tr := range kvtest.Transports(b) {
		if tr.Name == kvtest.Embedded || tr.Name == kvtest.Redis {
			out = append(out, tr)
		}
	}
	return out
}

func serve(h http.Handler, method, path, ct, auth, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.RemoteAddr = "203.0.113.7:40000"
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if auth != "" {
		r.Header.Set("Authorization", "Bearer "+auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func benchCreate(b *testing.B, h http.Handler, user string) (access, refresh string) {
	b.Helper()
	w := serve(h, "POST", "/api/sessions", "application/json", adminKey,
		`{"user_id":"`+user+`","device":`+benchDevice+`}`)
	if w.Code != http.StatusCreated {
		b.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var t struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &t); err != nil {
		b.Fatal(err)
	}
	return t.AccessToken, t.RefreshToken
}

// reportCPU adds cpu-ns/op: this process's processor time per iteration
// since start. Against real Redis that is the service's own cost (HTTP
// layer, session core, client side of the round trip) without the wait for
// the store, so it compares well across runs on a busy machine; against the
// embedded store it includes the in-process server.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}

var activePrefix = []byte(`{"active":true`)

// BenchmarkHandlerIntrospect is POST /api/introspect with the RFC 7662 form
// body, as a resource server sends it: one access token, asked about again
// and again (the verified-signature cache is warm; the store is read every
// time).
func BenchmarkHandlerIntrospect(b *testing.B) {
	for _, tr := range benchStores(b) {
		b.Run(tr.Name, func(b *testing.B) {
			h := benchApp(b, tr)
			access, _ := benchCreate(b, h, "bench-introspect")
			body := "token=" + access
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				w := serve(h, "POST", "/api/introspect", "application/x-www-form-urlencoded", introspectKey, body)
				if w.Code != http.StatusOK || !bytes.HasPrefix(w.Body.Bytes(), activePrefix) {
					b.Fatalf("introspect: %d %s", w.Code, w.Body)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkHandlerRefresh is POST /api/refresh with the JSON body the
// browser client sends (refresh token and device fingerprint); each
// iteration rotates the token the previous one got.
func BenchmarkHandlerRefresh(b *testing.B) {
	for _, tr := range benchStores(b) {
		b.Run(tr.Name, func(b *testing.B) {
			h := benchApp(b, tr)
			_, rt := benchCreate(b, h, "bench-refresh")
			var out struct {
				RefreshToken string `json:"refresh_token"`
			}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				w := serve(h, "POST", "/api/refresh", "application/json", "",
					`{"refresh_token":"`+rt+`","device":`+benchDevice+`}`)
				if w.Code != http.StatusOK {
					b.Fatalf("refresh: %d %s", w.Code, w.Body)
				}
				if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.RefreshToken == "" {
					b.Fatalf("refresh: %v %s", err, w.Body)
				}
				rt = out.RefreshToken
			}
			reportCPU(b, cpu)
		})
	}
}
