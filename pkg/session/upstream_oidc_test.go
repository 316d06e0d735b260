package session

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
	"github.com/sessionkit/sessiond/pkg/upstream"
)

// Helpers of upstream_test.go and upstream_race_test.go: a real OpenID
// Connect provider nobody here wrote (github.com/oauth2-proxy/mockoidc),
// started in-process on 127.0.0.1, behind a real *upstream.Provider.

const upRedirect = "https://app.example.test/callback"

// upOP is one mockoidc server. Its middleware counts the token endpoint's
// requests by grant type and records the refresh tokens presented; with
// rotate set it also makes the provider rotate refresh tokens, which
// mockoidc itself never does (it echoes the token presented); with
// noRefresh, code exchanges answer without a refresh token.
type upOP struct {
	*mockoidc.MockOIDC
	addr      string
	rotate    bool
	noRefresh bool

	mu        sync.Mutex
	grants    map[string]int
	presented []string // refresh tokens presented, in order
	minted    []string // refresh tokens issued by rotation, in order
}

func startOP(t testing.TB, rotate bool) *upOP {
	t.Helper()
	m, err := mockoidc.NewServer(nil) // the package's default RSA key: no slow key generation
	if err != nil {
		t.Fatal(err)
	}
	op := &upOP{MockOIDC: m, rotate: rotate, grants: map[string]int{}}
	if err := m.AddMiddleware(op.middleware); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	op.addr = ln.Addr().String()
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	return op
}

// stop shuts the provider down: its port refuses connections from now on.
func (op *upOP) stop(t testing.TB) {
	t.Helper()
	if err := op.Shutdown(); err != nil {
		t.Fatal(err)
	}
}

// restart serves again on the same address (the issuer names the port),
// with the same keys and the same grants.
func (op *upOP) restart(t testing.TB) {
	t.Helper()
	op.Server = nil
	ln, err := net.Listen("tcp", op.addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
}

func (op *upOP) count(grant string) int {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.grants[grant]
}

func (op *upOP) refreshGrants() int { return op.count("refresh_token") }

func (op *upOP) record() (presented, minted []string) {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]string(nil), op.presented...), append([]string(nil), op.minted...)
}

func (op *upOP) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != mockoidc.TokenEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		_ = r.ParseForm()
		grant := r.PostForm.Get("grant_type")
		op.mu.Lock()
		op.grants[grant]++
		if grant == "refresh_token" {
			op.presented = append(op.presented, r.PostForm.Get("refresh_token"))
		}
		op.mu.Unlock()
		rotate, strip := op.rotate && grant == "refresh_token", op.noRefresh && grant == "authorization_code"
		if !rotate && !strip {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := map[string]any{}
		if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &body) == nil {
			delete(body, "refresh_token")
			if rotate {
				nt, err := op.mint(r.PostForm.Get("refresh_token"))
				if err != nil {
					http.Error(w, "mint failed", http.StatusInternalServerError)
					return
				}
				body["refresh_token"] = nt
			}
			b, _ := json.Marshal(body)
			rec.Body = bytes.NewBuffer(b)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// mint issues the successor of refresh token old, signed with mockoidc's
// own key for old's grant (its jti), so that mockoidc accepts it in turn.
func (op *upOP) mint(old string) (string, error) {
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(old, c); err != nil {
		return "", err
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	now := op.Now()
	nt, err := op.Keypair.SignJWT(jwt.MapClaims{
		"iss": op.Issuer(), "aud": op.ClientID, "sub": c["sub"], "jti": c["jti"],
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"n": len(op.minted), // RSA signatures are deterministic: make each token new
	})
	if err == nil {
		op.minted = append(op.minted, nt)
	}
	return nt, err
}

// code drives the authorization endpoint as a browser would, for user sub
// with an S256 challenge of verifier, and returns the code it redirects with.
func (op *upOP) code(t testing.TB, sub, verifier string) string {
	t.Helper()
	op.QueueUser(&mockoidc.MockUser{Subject: sub, Email: sub + "@example.test", EmailVerified: true})
	q := url.Values{
		"response_type": {"code"}, "client_id": {op.ClientID}, "redirect_uri": {upRedirect},
		"scope": {"openid email profile"}, "state": {"st-" + sub},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
	hc := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(op.AuthorizationEndpoint() + "?" + q.Encode())
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: HTTP %d, location %v", resp.StatusCode, err)
	}
	code := loc.Query().Get("code")
	if code == "" || loc.Query().Get("state") != q.Get("state") {
		t.Fatalf("authorize: redirect lacks the code or the state")
	}
	return code
}

// upSleeps is the provider's injected Sleep: it records the backoff delays
// and returns at once.
type upSleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *upSleeps) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *upSleeps) n() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.d)
}

// newUpProvider is a real Provider for op on clock now. mockoidc lists
// client_secret_basic but reads the credentials from the form only.
func newUpProvider(t testing.TB, op *upOP, now func() time.Time, s *upSleeps) *upstream.Provider {
	t.Helper()
	p, err := upstream.New(upstream.Config{
		Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: op.ClientSecret,
		RedirectURIs: []string{upRedirect}, AuthMethod: upstream.AuthMethodPost,
		Now: now, Sleep: s.sleep,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// upEnv is a Manager whose Upstream is a Provider for op; the Manager, the
// Provider and (through FastForward) mockoidc share one clock.
type upEnv struct {
	*env
	op     *upOP
	sleeps *upSleeps
	p      *upstream.Provider
}

func newUpEnv(t *testing.T, tr kvtest.Named, op *upOP) *upEnv {
	t.Helper()
	clk := newClock()
	u := &upEnv{op: op, sleeps: &upSleeps{}}
	c := testConfig(t, clk)
	u.p = newUpProvider(t, op, clk.Now, u.sleeps)
	c.Upstream = u.p
	m, err := New(tr.Client, c)
	if err != nil {
		t.Fatal(err)
	}
	u.env = &env{Manager: m, tr: tr, clk: clk, ctx: context.Background()}
	return u
}

// eachUp runs fn on every store transport, each with a provider of its own.
func eachUp(t *testing.T, rotate bool, fn func(t *testing.T, u *upEnv)) {
	t.Helper()
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		fn(t, newUpEnv(t, tr, startOP(t, rotate)))
	})
}

// advance moves our clock and the provider's together. Call it only while
// no request to the provider is in flight.
func (u *upEnv) advance(d time.Duration) {
	u.clk.Add(d)
	u.op.FastForward(d)
}

// login runs the code flow with PKCE for sub and creates the session.
func (u *upEnv) login(t testing.TB, sub string) *Issued {
	t.Helper()
	v := oauth2.GenerateVerifier()
	is, err := u.CreateFromCode(u.ctx, u.op.code(t, sub, v), v, upRedirect, laptop(), client("203.0.113.7", chromeUA))
	if err != nil {
		t.Fatalf("CreateFromCode(%s): %v", sub, err)
	}
	return is
}

// hash is the session's raw hash as stored.
func (u *upEnv) hash(t testing.TB, sid string) map[string]string {
	t.Helper()
	v, err := u.tr.Client.Do(u.ctx, "HGETALL", u.cfg.KeyPrefix+"s:"+sid)
	if err != nil {
		t.Fatal(err)
	}
	arr, _ := v.([]any)
	out := map[string]string{}
	for i := 0; i+1 < len(arr); i += 2 {
		k, _ := arr[i].(string)
		out[k], _ = arr[i+1].(string)
	}
	return out
}

// stored opens the upstream tokens as stored: field "up" of the session hash.
func (u *upEnv) stored(t testing.TB, sid string) (string, upstream.Tokens) {
	t.Helper()
	raw := u.hash(t, sid)["up"]
	toks, err := upstream.OpenTokens(u.cfg.Sealer, sid, raw)
	if err != nil {
		t.Fatalf("stored upstream tokens do not open: %v", err)
	}
	return raw, toks
}

// upstreamExpiry is the session's upstream expiry as List shows it.
func (u *upEnv) upstreamExpiry(t testing.TB, uid, sid string) time.Time {
	t.Helper()
	ss, err := u.List(u.ctx, uid, "", Client{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		if s.ID == sid {
			if s.UpstreamExpiry == nil {
				t.Fatalf("session %s lists no upstream expiry", sid)
			}
			return *s.UpstreamExpiry
		}
	}
	t.Fatalf("session %s not listed for %s", sid, uid)
	return time.Time{}
}

// countOf counts action in the session's audit trail.
func (u *upEnv) countOf(t testing.TB, sid, action string) int {
	t.Helper()
	n := 0
	for _, a := range u.actions(t, sid) {
		if a == action {
			n++
		}
	}
	return n
}

// near fails unless got is within 2s of want (JWT times have second precision).
func nearTime(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d < -2*time.Second || d > 2*time.Second {
		t.Fatalf("%s = %v, want about %v", what, got, want)
	}
}
