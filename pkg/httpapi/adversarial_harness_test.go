package httpapi_test

// The harness of the adversarial suite (adversarial_*_test.go): a server
// around the real handlers whose every answer is checked for 5xx and kept,
// whose logs (the App's and the session Manager's, at debug level) are
// captured, and which knows every secret and token of the run, so that at
// the end of each test nothing secret may appear in an answer or a log
// line. It also forges access tokens: the server's signing key is one the
// test generated, so forgeries can differ from a genuine token in exactly
// one respect.

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/httpapi"
	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
	"github.com/sessionkit/sessiond/pkg/session"
	"github.com/sessionkit/sessiond/pkg/token"
)

// advCases counts the adversarial cases checked in this process (each a
// request whose exact status and error code were asserted), for the log.
var advCases atomic.Int64

// advOpts tune newAdv.
type advOpts struct {
	env   map[string]string // merged over baseEnv; "" deletes
	store *kvtest.Named     // nil: the App opens its own embedded store
}

// advServer is an httptest server around one App's real handlers.
type advServer struct {
	*httptest.Server
	app   *httpapi.App
	clock *clock
	logs  *syncBuffer
	key   ed25519.PrivateKey // the server's access-token signing key

	mu         sync.Mutex
	serverErrs []string                // every answer >= 500 (must stay empty)
	seen       []seenResp              // every answer, for the secret scan
	secrets    map[string]string       // secret value -> what it is
	clients    map[string]*http.Client // by local address dialled from
}

type seenResp struct {
	what   string
	status int
	header http.Header
	body   []byte
}

// newAdv starts the real handlers over the store of o (or an embedded
// one). Rate limits are off unless o.env sets SESSION_RATE_LIMIT_SCALE.
// When the test ends it fails the test if any answer was a 5xx, if an
// error was logged, or if a secret appears in an answer or the logs.
func newAdv(t *testing.T, o advOpts) *advServer {
	t.Helper()
	env := baseEnv()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := token.EncodePrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	env["SESSION_JWT_PRIVATE_KEY"] = string(pemKey)
	encKey := make([]byte, 32)
	if _, err := rand.Read(encKey); err != nil {
		t.Fatal(err)
	}
	env["SESSION_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(encKey)
	for k, v := range o.env {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	clk := newClock()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, scaleSet := env["SESSION_RATE_LIMIT_SCALE"]
	opts := []httpapi.Option{
		httpapi.WithLogger(logger),
		httpapi.WithSessionConfig(func(c *session.Config) {
			c.Now = clk.Now
			c.Logger = logger
			if !scaleSet {
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
	srv := httptest.NewServer(app.Handler())
	a := &advServer{Server: srv, app: app, clock: clk, logs: logs, key: priv,
		secrets: map[string]string{}, clients: map[string]*http.Client{}}
	for k, what := range map[string]string{
		"SESSION_ADMIN_KEY": "the admin key", "SESSION_INTROSPECT_KEY": "the introspection key",
		"CRON_SECRET": "the cron secret", "SESSION_JWT_PRIVATE_KEY": "the signing key PEM",
		"SESSION_ENCRYPTION_KEY": "the encryption key",
	} {
		a.secret(env[k], what)
	}
	for _, line := range strings.Split(string(pemKey), "\n") {
		if !strings.HasPrefix(line, "-----") {
			a.secret(line, "the signing key PEM body")
		}
	}
	a.secret(base64.StdEncoding.EncodeToString(priv.Seed()), "the signing key seed")
	a.secret(base64.RawURLEncoding.EncodeToString(priv.Seed()), "the signing key seed")
	t.Cleanup(func() {
		a.mu.Lock()
		for _, c := range a.clients {
			c.CloseIdleConnections()
		}
		a.mu.Unlock()
		srv.Close()
		_ = app.Close()
	})
	t.Cleanup(func() { a.audit(t) }) // runs first: after the test body, before the close
	return a
}

// eachAdv runs fn with a fresh advServer per store transport (embedded,
// and with REDIS_URL set, real Redis natively and over the REST protocol).
func eachAdv(t *testing.T, env map[string]string, fn func(t *testing.T, a *advServer)) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		fn(t, newAdv(t, advOpts{env: env, store: &tr}))
	})
	t.Logf("adversarial cases checked so far in this process: %d", advCases.Load())
}

// secret registers a value that must never appear in an answer (except as
// the token a create or refresh hands out) or in a log line. Short values
// are ignored: they would match by chance.
func (a *advServer) secret(v, what string) {
	if len(v) < 16 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.secrets[v]; !ok {
		a.secrets[v] = what
	}
}

// token registers an access or refresh token, and its secret part alone.
func (a *advServer) token(tok, what string) {
	a.secret(tok, what)
	if strings.Count(tok, ".") == 2 {
		a.secret(tok[strings.LastIndexByte(tok, '.')+1:], what+" (signature)")
	} else if rest, ok := strings.CutPrefix(tok, token.RefreshPrefix); ok {
		a.secret(rest, what+" (body)")
	}
}

// audit is the end-of-test check of the whole run of this server.
func (a *advServer) audit(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.serverErrs) > 0 {
		t.Errorf("%d answers were 5xx (must be none): %v", len(a.serverErrs), a.serverErrs)
	}
	logs := a.logs.String()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("an error was logged: %s", line)
		}
	}
	for v, what := range a.secrets {
		if strings.Contains(logs, v) {
			t.Errorf("%s appears in the logs", what)
		}
	}
	for _, r := range a.seen {
		body := issuedStripped(r)
		var hdr strings.Builder
		for k, vs := range r.header {
			fmt.Fprintf(&hdr, "%s: %s\n", k, strings.Join(vs, ", "))
		}
		for v, what := range a.secrets {
			if bytes.Contains(body, []byte(v)) {
				t.Errorf("%s appears in the answer to %s (%d)", what, r.what, r.status)
			}
			if strings.Contains(hdr.String(), v) {
				t.Errorf("%s appears in a header of the answer to %s (%d)", what, r.what, r.status)
			}
		}
	}
	t.Logf("secret scan: %d secrets and tokens against %d answers and %d bytes of logs", len(a.secrets), len(a.seen), len(logs))
}

// issuedStripped returns an answer's body without the tokens a create or a
// refresh legitimately hands out (access_token, refresh_token): everything
// else must be free of secrets.
func issuedStripped(r seenResp) []byte {
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		return r.body
	}
	var m map[string]any
	if json.Unmarshal(r.body, &m) != nil {
		return r.body
	}
	if _, ok := m["access_token"]; !ok {
		return r.body
	}
	delete(m, "access_token")
	delete(m, "refresh_token")
	b, _ := json.Marshal(m)
	return b
}

// areq is one request of the suite.
type areq struct {
	method, path string
	bearer       string   // Authorization: Bearer <bearer>
	authz        []string // raw Authorization values (instead of bearer)
	json         any      // marshalled as the JSON body
	form         url.Values
	body         []byte // sent as is, with contentType
	contentType  string
	chunked      bool // hide the length: Transfer-Encoding: chunked
	headers      map[string]string
	ua           string // User-Agent (default: a fixed browser-like one)
	from         string // local IP to dial from (default 127.0.0.1)
}

const defaultUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

// client returns an HTTP client whose connections come from the local
// address from (any of 127.0.0.0/8 on Linux), so the server sees that
// socket peer: the only client IP it trusts by default.
func (a *advServer) client(from string) *http.Client {
	if from == "" {
		from = "127.0.0.1"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[from]; ok {
		return c
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
	a.clients[from] = c
	return c
}

type hiddenLen struct{ io.Reader }

// do sends r and returns the whole answer. A 5xx fails the test (and is
// remembered for the end-of-test check).
func (a *advServer) do(t *testing.T, r areq) *resp {
	t.Helper()
	res, err := a.send(t, r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// send is do for other goroutines than the test's: it returns transport
// errors instead of stopping the test.
func (a *advServer) send(t *testing.T, r areq) (*resp, error) {
	t.Helper()
	var body io.Reader
	ct := r.contentType
	switch {
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			return nil, err
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
	case r.body != nil:
		body = bytes.NewReader(r.body)
	}
	if body != nil && r.chunked {
		body = hiddenLen{body}
	}
	hr, err := http.NewRequest(r.method, a.URL+r.path, body)
	if err != nil {
		return nil, err
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for _, v := range r.authz {
		hr.Header.Add("Authorization", v)
	}
	ua := r.ua
	if ua == "" {
		ua = defaultUA
	}
	hr.Header.Set("User-Agent", ua)
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	res, err := a.client(r.from).Do(hr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return a.note(t, r.method+" "+r.path, res.StatusCode, res.Header, b), nil
}

// note records an answer: kept for the secret scan, its tokens registered,
// a 5xx reported.
func (a *advServer) note(t *testing.T, what string, status int, h http.Header, b []byte) *resp {
	t.Helper()
	a.mu.Lock()
	a.seen = append(a.seen, seenResp{what: what, status: status, header: h.Clone(), body: b})
	if status >= 500 {
		a.serverErrs = append(a.serverErrs, fmt.Sprintf("%s -> %d %s", what, status, b))
	}
	a.mu.Unlock()
	if status >= 500 {
		t.Errorf("%s: %d (no request may yield a 5xx): %s", what, status, b)
	}
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		for _, f := range []string{"access_token", "refresh_token"} {
			if v, _ := m[f].(string); v != "" {
				a.token(v, "an issued "+strings.ReplaceAll(f, "_", " "))
			}
		}
	}
	return &resp{Status: status, Header: h, Body: b}
}

// raw sends bytes as they are over a new TCP connection (for requests the
// Go client refuses to write) and reads one answer.
func (a *advServer) raw(t *testing.T, request string) *resp {
	t.Helper()
	c, err := net.Dial("tcp", a.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	// A server that refuses early may stop reading: a failed write is not
	// the test's verdict, the answer (or the lack of one) is.
	_, _ = io.WriteString(c, request)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("raw request %q: %v", request, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	first, _, _ := strings.Cut(request, "\r\n")
	return a.note(t, "raw "+first, res.StatusCode, res.Header, b)
}

// want is what an answer must be, exactly.
type want struct {
	status    int
	code      string // the "error" field ("" for a success)
	challenge string // on a 401: error= of WWW-Authenticate ("" = no parameter)
	descHas   string // a part of error_description (e.g. the field named)
	allow     string // on a 405: the Allow header
	body      string // the exact body, when set
}

// check asserts the answer r is exactly w, and counts one case.
func (w want) check(t *testing.T, r *resp) {
	t.Helper()
	advCases.Add(1)
	if r.Status != w.status {
		t.Fatalf("status %d, want %d: %s", r.Status, w.status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("security headers missing: %v", r.Header)
	}
	if w.body != "" && string(r.Body) != w.body {
		t.Fatalf("body %s, want exactly %s", r.Body, w.body)
	}
	if w.code != "" {
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatalf("error answer is not JSON: %q", r.Body)
		}
		if m["error"] != w.code {
			t.Fatalf("error %v, want %s: %s", m["error"], w.code, r.Body)
		}
		d, _ := m["error_description"].(string)
		if d == "" {
			t.Fatalf("no error_description: %s", r.Body)
		}
		if w.descHas != "" && !strings.Contains(d, w.descHas) {
			t.Fatalf("error_description %q does not name %q", d, w.descHas)
		}
		if len(m) != 2 {
			t.Fatalf("error JSON has other fields than error and error_description: %s", r.Body)
		}
	}
	switch w.status {
	case http.StatusUnauthorized:
		wa := `Bearer realm="sessiond"`
		if w.challenge != "" {
			wa += `, error="` + w.challenge + `"`
		}
		if got := r.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != wa {
			t.Fatalf("WWW-Authenticate %q, want %q", got, wa)
		}
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Fatalf("Retry-After %q on a %d", r.Header.Get("Retry-After"), w.status)
		}
	case http.StatusMethodNotAllowed:
		if r.Header.Get("Allow") != w.allow {
			t.Fatalf("Allow %q, want %q", r.Header.Get("Allow"), w.allow)
		}
	}
	if w.status != http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("WWW-Authenticate on a %d", r.Status)
	}
}

// Frequent expectations.
var (
	wantNoCred       = want{status: 401, code: "unauthorized"}
	wantBadCred      = want{status: 401, code: "unauthorized", challenge: "invalid_token"}
	wantBadScheme    = want{status: 401, code: "unauthorized", challenge: "invalid_request"}
	wantInactive     = want{status: 200, body: `{"active":false}`}
	wantInvalidGrant = want{status: 400, code: "invalid_grant"}
	wantNotFound     = want{status: 404, code: "not_found"}
	wantBadRequest   = want{status: 400, code: "invalid_request"}
	wantTooLarge     = want{status: 413, code: "payload_too_large"}
	wantMedia        = want{status: 415, code: "unsupported_media_type"}
)

// issued is what a create or a refresh returned.
type issued struct {
	SessionID, UserID, Access, Refresh string
}

func issuedOf(t *testing.T, r *resp) issued {
	t.Helper()
	var m struct {
		SessionID string `json:"session_id"`
		UserID    string `json:"user_id"`
		Access    string `json:"access_token"`
		Refresh   string `json:"refresh_token"`
	}
	if err := json.Unmarshal(r.Body, &m); err != nil || m.Access == "" || m.Refresh == "" {
		t.Fatalf("no tokens in %d %s", r.Status, r.Body)
	}
	return issued{m.SessionID, m.UserID, m.Access, m.Refresh}
}

// create makes a session for user with the admin key; extra is merged into
// the body; from and ua are the client's address and User-Agent.
func (a *advServer) create(t *testing.T, user string, extra map[string]any, from, ua string) issued {
	t.Helper()
	body := map[string]any{"user_id": user}
	for k, v := range extra {
		body[k] = v
	}
	r := a.do(t, areq{method: "POST", path: "/api/sessions", bearer: adminKey, json: body, from: from, ua: ua})
	if r.Status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", user, r.Status, r.Body)
	}
	return issuedOf(t, r)
}

// refresh rotates rt with the RFC 6749 form.
func (a *advServer) refresh(t *testing.T, rt, from, ua string) *resp {
	t.Helper()
	return a.do(t, areq{method: "POST", path: "/api/refresh", from: from, ua: ua,
		form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}})
}

// introspect asks about tok with the introspection key.
func (a *advServer) introspect(t *testing.T, tok string) *resp {
	t.Helper()
	return a.do(t, areq{method: "POST", path: "/api/introspect", bearer: introspectKey, form: url.Values{"token": {tok}}})
}

// active reports whether introspection calls tok active (and checks an
// inactive answer is exactly {"active":false}).
func (a *advServer) active(t *testing.T, tok string) bool {
	t.Helper()
	r := a.introspect(t, tok)
	if r.Status != http.StatusOK {
		t.Fatalf("introspect: %d %s", r.Status, r.Body)
	}
	if string(r.Body) == `{"active":false}` {
		return false
	}
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil || m["active"] != true {
		t.Fatalf("introspection neither active nor exactly {\"active\":false}: %s", r.Body)
	}
	return true
}

// sessionsOf lists user's sessions with the admin key.
func (a *advServer) sessionsOf(t *testing.T, user string) []map[string]any {
	t.Helper()
	r := a.do(t, areq{method: "GET", path: "/api/sessions?user_id=" + url.QueryEscape(user), bearer: adminKey})
	if r.Status != http.StatusOK {
		t.Fatalf("list %s: %d %s", user, r.Status, r.Body)
	}
	var m struct {
		Sessions []map[string]any `json:"sessions"`
	}
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m.Sessions
}

// sessionOf returns one session of user as the admin listing shows it (nil
// when it is not listed: ended).
func (a *advServer) sessionOf(t *testing.T, user, sid string) map[string]any {
	t.Helper()
	for _, s := range a.sessionsOf(t, user) {
		if s["session_id"] == sid {
			return s
		}
	}
	return nil
}

// auditEvent is one event of GET /api/audit.
type auditEvent struct {
	Action    string          `json:"action"`
	IP        *string         `json:"ip"`
	UserAgent *string         `json:"user_agent"`
	RiskScore *float64        `json:"risk_score"`
	SessionID *string         `json:"session_id"`
	Details   json.RawMessage `json:"details"`
}

// events returns the audit events matching query (e.g. "session_id=..."),
// newest first.
func (a *advServer) events(t *testing.T, query string) []auditEvent {
	t.Helper()
	r := a.do(t, areq{method: "GET", path: "/api/audit?limit=500&" + query, bearer: adminKey})
	if r.Status != http.StatusOK {
		t.Fatalf("audit: %d %s", r.Status, r.Body)
	}
	var p struct {
		Events []auditEvent `json:"events"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	return p.Events
}

func withAction(evs []auditEvent, action string) []auditEvent {
	var out []auditEvent
	for _, e := range evs {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func strOf(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// ---- forging access tokens ----

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwtParts decodes a compact JWS's header and claims (numbers kept exact).
func jwtParts(t *testing.T, tok string) (map[string]any, map[string]any) {
	t.Helper()
	seg := strings.Split(tok, ".")
	if len(seg) != 3 {
		t.Fatalf("not a JWS: %d segments", len(seg))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return dec(seg[0]), dec(seg[1])
}

func encodeSeg(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b64(b)
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// signEd signs header and claims with key (EdDSA).
func signEd(t *testing.T, key ed25519.PrivateKey, h, c map[string]any) string {
	t.Helper()
	in := encodeSeg(t, h) + "." + encodeSeg(t, c)
	return in + "." + b64(ed25519.Sign(key, []byte(in)))
}

// signHS signs header and claims with HMAC-SHA256 under secret.
func signHS(t *testing.T, secret []byte, h, c map[string]any) string {
	t.Helper()
	in := encodeSeg(t, h) + "." + encodeSeg(t, c)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + b64(mac.Sum(nil))
}

// unixAt is a NumericDate for the server's clock plus d.
func (a *advServer) unixAt(d time.Duration) json.Number {
	return json.Number(strconv.FormatInt(a.clock.Now().Add(d).Unix(), 10))
}
