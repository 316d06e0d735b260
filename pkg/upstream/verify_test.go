package upstream

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
)

func mintClaims(iss, aud, sub, jti string, exp time.Time) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": iss, "aud": aud, "sub": sub, "jti": jti,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
	}
}

func signWith(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unverifiedClaim reads one string claim of a JWT without verifying it.
func unverifiedClaim(raw, name string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	s, _ := m[name].(string)
	return s
}

func TestVerifyIDToken(t *testing.T) {
	t.Parallel()
	m, cnt := startMockOIDC(t)
	clk := newFakeClock()
	p := newTestProvider(t, m, clk)
	ctx := context.Background()
	kid, err := m.Keypair.KeyID()
	if err != nil {
		t.Fatal(err)
	}
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	claims := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := mintClaims(m.Issuer(), m.ClientID, "user-7", "id-1", clk.Now().Add(10*time.Minute))
		c["nonce"] = "nonce-1"
		c["email"] = "u7@example.test"
		c["email_verified"] = "true" // as a string, the way some providers send it
		c["sid"] = "op-session-9"
		c["auth_time"] = clk.Now().Add(-time.Minute).Unix()
		if mut != nil {
			mut(c)
		}
		return c
	}
	byMock := func(c jwt.MapClaims) string {
		s, err := m.Keypair.SignJWT(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	for _, tc := range []struct {
		name   string
		token  string
		nonce  string
		reason string // substring of the error; "" = accepted
	}{
		{"valid", byMock(claims(nil)), "", ""},
		{"valid with nonce", byMock(claims(nil)), "nonce-1", ""},
		{"audience list with azp = us", byMock(claims(func(c jwt.MapClaims) {
			c["aud"] = []string{"other-client", m.ClientID}
			c["azp"] = m.ClientID
		})), "", ""},
		{"nonce mismatch", byMock(claims(nil)), "nonce-2", "nonce mismatch"},
		{"nonce expected, none in token", byMock(claims(func(c jwt.MapClaims) { delete(c, "nonce") })), "nonce-1", "nonce mismatch"},
		{"wrong audience", byMock(claims(func(c jwt.MapClaims) { c["aud"] = "another-client" })), "", "audience mismatch"},
		{"azp is another client", byMock(claims(func(c jwt.MapClaims) {
			c["aud"] = []string{m.ClientID, "other-client"}
			c["azp"] = "other-client"
		})), "", "azp"},
		{"expired", byMock(claims(func(c jwt.MapClaims) { c["exp"] = clk.Now().Add(-time.Second).Unix() })), "", "expired"},
		{"not yet valid", byMock(claims(func(c jwt.MapClaims) { c["nbf"] = clk.Now().Add(time.Hour).Unix() })), "", "not yet valid"},
		{"wrong issuer", byMock(claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.test" })), "", "issuer mismatch"},
		{"no subject", byMock(claims(func(c jwt.MapClaims) { delete(c, "sub") })), "", "sub"},
		{"unknown key id", signWith(t, jwt.SigningMethodRS256, otherRSA, "unknown-kid", claims(nil)), "", "signature"},
		{"unknown key under the provider's kid", signWith(t, jwt.SigningMethodRS256, otherRSA, kid, claims(nil)), "", "signature"},
		{"unknown key without kid", signWith(t, jwt.SigningMethodRS256, otherRSA, "", claims(nil)), "", "signature"},
		{"algorithm not published (ES256)", signWith(t, jwt.SigningMethodES256, ecKey, kid, claims(nil)), "", "algorithm"},
		{"HS256 keyed with the client secret", signWith(t, jwt.SigningMethodHS256, []byte(m.ClientSecret), kid, claims(nil)), "", "algorithm"},
		{"alg none", signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, claims(nil)), "", "algorithm"},
		{"tampered payload", tamper(byMock(claims(nil))), "", "signature"},
		{"garbage", "not-a-jwt", "", "malformed"},
		{"empty", "", "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := p.VerifyIDToken(ctx, tc.token, tc.nonce)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id.Subject != "user-7" || id.Email != "u7@example.test" || !id.EmailVerified || id.SessionID != "op-session-9" || id.AuthTime.IsZero() {
					t.Fatalf("identity = %+v", id)
				}
				return
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("got %v, want ErrInvalidToken", err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("error %q does not say %q", err, tc.reason)
			}
			if tc.token != "" {
				assertNoSecret(t, err, tc.token, strings.Split(tc.token+"..", ".")[1])
			}
		})
	}

	// Many tokens with unknown key ids made one JWKS fetch, not one each.
	if got := cnt.get(mockoidc.JWKSEndpoint); got != 1 {
		t.Fatalf("JWKS fetched %d times, want 1 (refetch is rate limited)", got)
	}
	clk.Advance(DefaultKeyRefetchEvery)
	unknown := signWith(t, jwt.SigningMethodRS256, otherRSA, "rotated-kid", claims(nil))
	for range 3 {
		if _, err := p.VerifyIDToken(ctx, unknown, ""); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("got %v", err)
		}
	}
	if got := cnt.get(mockoidc.JWKSEndpoint); got != 2 {
		t.Fatalf("JWKS fetched %d times after the refetch interval, want 2", got)
	}
}

// tamper changes the payload of a JWS without re-signing it.
func tamper(raw string) string {
	parts := strings.Split(raw, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	b = bytes.Replace(b, []byte(`"user-7"`), []byte(`"admin1"`), 1)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestVerifyIDTokenJWKSUnavailable(t *testing.T) {
	t.Parallel()
	m, _ := startMockOIDC(t)
	clk := newFakeClock()
	p := newTestProvider(t, m, clk)
	ctx := context.Background()
	good, err := m.Keypair.SignJWT(mintClaims(m.Issuer(), m.ClientID, "user-1", "j", clk.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.current(ctx); err != nil { // discovery cached; the next request is the JWKS
		t.Fatal(err)
	}
	m.QueueError(&mockoidc.ServerError{Code: http.StatusServiceUnavailable, Error: "temporarily_unavailable"})
	if _, err := p.VerifyIDToken(ctx, good, ""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("JWKS down: %v, want ErrUnavailable (not the user's fault)", err)
	}
	// Keys never loaded, so the next call fetches again at once.
	id, err := p.VerifyIDToken(ctx, good, "")
	if err != nil || id.Subject != "user-1" {
		t.Fatalf("after the JWKS recovered: %+v, %v", id, err)
	}
}

// recorder buffers a handler's answer so a test middleware can rewrite it.
type recorder struct {
	hdr  http.Header
	code int
	body bytes.Buffer
}

func newRecorder() *recorder { return &recorder{hdr: http.Header{}, code: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.hdr }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

func (r *recorder) jsonBody() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.body.Bytes(), &m)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func (r *recorder) writeJSON(w http.ResponseWriter, body map[string]any) {
	for k, v := range r.hdr {
		w.Header()[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Del("Content-Length")
	w.WriteHeader(r.code)
	_, _ = w.Write(b)
}
