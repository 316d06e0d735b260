package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/httpapi"
	"github.com/sessionkit/sessiond/pkg/kv"
	_ "github.com/sessionkit/sessiond/pkg/kv/embedded" // an App given no store opens the embedded one
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
	"github.com/sessionkit/sessiond/pkg/session"
)

// Secrets of the test servers (at least 16 bytes, as config requires).
const (
	adminKey      = "admin-key-0123456789abcdef"
	introspectKey = "introspect-key-0123456789abcdef"
	cronSecret    = "cron-secret-0123456789abcdef"
)

// clock is a settable clock for the Manager, so expiry is tested without
// sleeping. It starts at the wall clock: the store's own TTLs run on that.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// server is an httptest server around the real handlers of one App.
type server struct {
	*httptest.Server
	t     *testing.T
	app   *httpapi.App
	clock *clock
	logs  *syncBuffer
}

// syncBuffer collects the App's log lines, for tests that check them.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// baseEnv is the environment every test server starts from.
func baseEnv() map[string]string {
	return map[string]string{
		"SESSION_ADMIN_KEY":      adminKey,
		"SESSION_INTROSPECT_KEY": introspectKey,
		"CRON_SECRET":            cronSecret,
	}
}

// serverOpts tune newServer.
type serverOpts struct {
	env    map[string]string // merged over baseEnv; "" deletes
	store  *kvtest.Named     // nil: the App opens its own embedded store
	limits *session.Limits   // nil: rate limits off, unless env sets a scale
	tls    bool
}

// newServer starts the real handlers. Rate limits are off unless the test
// asks for them, so suites do not trip over each other's counters.
func newServer(t *testing.T, o serverOpts) *server {
	t.Helper()
	env := baseEnv()
	for k, v := range o.env {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	clk := newClock()
	logs := &syncBuffer{}
	opts := []httpapi.Option{
		httpapi.WithLogger(slog.New(slog.NewTextHandler(logs, nil))),
		httpapi.WithSessionConfig(func(c *session.Config) {
			c.Now = clk.Now
			if o.limits != nil {
				c.Limits = o.limits
				c.RateLimitScale = nil
			} else if _, set := env["SESSION_RATE_LIMIT_SCALE"]; !set {
				zero := 0.0
				c.RateLimitScale = &zero
			}
			if o.store != nil && o.store.Real {
				c.KeyPrefix = kvtest.Prefix(t)
			}
		}),
	}
	if o.store != nil {
		opts = append(opts, httpapi.WithStore(o.store.Client, kv.Info{Transport: o.store.Name}))
	}
	app := httpapi.New(func(k string) string { return env[k] }, opts...)
	var srv *httptest.Server
	if o.tls {
		srv = httptest.NewTLSServer(app.Handler())
	} else {
		srv = httptest.NewServer(app.Handler())
	}
	t.Cleanup(func() {
		srv.Close()
		_ = app.Close()
	})
	return &server{Server: srv, t: t, app: app, clock: clk, logs: logs}
}

// eachStore runs fn against every store transport kvtest offers (the
// embedded store always; real Redis, natively and over the REST protocol,
// when REDIS_URL is set).
func eachStore(t *testing.T, env map[string]string, fn func(t *testing.T, s *server)) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		fn(t, newServer(t, serverOpts{env: env, store: &tr}))
	})
}

// resp is an answer, read whole.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map (failing the test if it is not JSON).
func (r *resp) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, r.Body)
	}
	return m
}

// Str returns a string field of the JSON body.
func (r *resp) Str(t *testing.T, field string) string {
	t.Helper()
	v, _ := r.JSON(t)[field].(string)
	return v
}

// req describes one request.
type req struct {
	method, path string
	bearer       string
	json         any        // marshalled as the JSON body
	form         url.Values // sent as a form body
	raw          string     // sent as is, with contentType
	contentType  string
	headers      map[string]string
	cookies      []*http.Cookie
}

func (s *server) do(r req) *resp {
	s.t.Helper()
	var body io.Reader
	ct := r.contentType
	switch {
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			s.t.Fatal(err)
		}
		body = bytes.NewReader(b)
		if ct == "" {
			ct = "application/json"
		}
	case r.form != nil:
		body = strings.NewReader(r.form.Encode())
		if ct == "" {
			ct = "application/x-www-form-urlencoded"
		}
	case r.raw != "":
		body = strings.NewReader(r.raw)
	}
	hr, err := http.NewRequest(r.method, s.URL+r.path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	for _, c := range r.cookies {
		hr.AddCookie(c)
	}
	res, err := s.Client().Do(hr)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
		s.t.Errorf("%s %s: unexpected %d: %s", r.method, r.path, res.StatusCode, b)
	}
	return &resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// expect checks the status and, for errors, SPEC's error JSON with the code.
func expect(t *testing.T, r *resp, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if code == "" {
		return
	}
	m := r.JSON(t)
	if m["error"] != code {
		t.Fatalf("error %v, want %s: %s", m["error"], code, r.Body)
	}
	if d, _ := m["error_description"].(string); d == "" {
		t.Fatalf("error without error_description: %s", r.Body)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Bearer realm="sessiond"`) {
		t.Fatalf("401 without WWW-Authenticate: %v", r.Header)
	}
	if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && r.Header.Get("Retry-After") == "" {
		t.Fatalf("%d without Retry-After", status)
	}
}

// tokens are what a create or refresh returned.
type tokens struct {
	SessionID, UserID, Access, Refresh string
	ExpiresIn, RefreshExpiresIn        float64
}

func tokensOf(t *testing.T, r *resp) tokens {
	t.Helper()
	m := r.JSON(t)
	tk := tokens{}
	tk.SessionID, _ = m["session_id"].(string)
	tk.UserID, _ = m["user_id"].(string)
	tk.Access, _ = m["access_token"].(string)
	tk.Refresh, _ = m["refresh_token"].(string)
	tk.ExpiresIn, _ = m["expires_in"].(float64)
	tk.RefreshExpiresIn, _ = m["refresh_expires_in"].(float64)
	return tk
}

// create makes a session for user with the admin key.
func (s *server) create(user string, extra map[string]any) tokens {
	s.t.Helper()
	body := map[string]any{"user_id": user}
	for k, v := range extra {
		body[k] = v
	}
	r := s.do(req{method: "POST", path: "/api/sessions", bearer: adminKey, json: body})
	expect(s.t, r, http.StatusCreated, "")
	return tokensOf(s.t, r)
}

// refresh rotates a refresh token with the RFC 6749 form.
func (s *server) refresh(rt string) *resp {
	s.t.Helper()
	return s.do(req{method: "POST", path: "/api/refresh",
		form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}})
}

// introspect asks about tok with the introspection key.
func (s *server) introspect(tok string) *resp {
	s.t.Helper()
	r := s.do(req{method: "POST", path: "/api/introspect", bearer: introspectKey, form: url.Values{"token": {tok}}})
	expect(s.t, r, http.StatusOK, "")
	return r
}

// active reports whether introspection says tok is active, checking the
// inactive answer is exactly {"active":false}.
func (s *server) active(tok string) bool {
	s.t.Helper()
	r := s.introspect(tok)
	if string(bytes.TrimSpace(r.Body)) == `{"active":false}` {
		return false
	}
	if r.JSON(s.t)["active"] != true {
		s.t.Fatalf("introspection neither active nor exactly {\"active\":false}: %s", r.Body)
	}
	return true
}
