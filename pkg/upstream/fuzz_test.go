package upstream

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for every decoder of what the provider sends us.

func FuzzParseMetadata(f *testing.F) {
	const iss = "https://op.example.test"
	f.Add([]byte(`{"issuer":"https://op.example.test","token_endpoint":"https://op.example.test/token","jwks_uri":"https://op.example.test/jwks","id_token_signing_alg_values_supported":["RS256","HS256","none"]}`))
	f.Add([]byte(`{"issuer":"https://op.example.test","token_endpoint":"javascript:alert(1)","jwks_uri":"x"}`))
	f.Add([]byte(`{"issuer":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseMetadata(body, iss)
		if err != nil {
			return
		}
		if m.Issuer != iss || m.TokenEndpoint == "" || m.JWKSURI == "" {
			t.Fatalf("accepted a document without issuer match or endpoints: %+v", m)
		}
		for _, a := range m.algorithms() {
			if !supportedAlgs[a] {
				t.Fatalf("algorithm %q pinned", a)
			}
		}
	})
}

func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"k","alg":"RS256","use":"sig","n":"tI1Jf2zmfwLzpAjVarORtjKtmCHQtgNxqWDdVNVagCb092tLrBRv0fTfHIJG-YpmmTrRN5yKax9bI3oSYNZJufAN3gu4TIrlLoFv6npC-k3rK-sbiD2m0iz9duxe7uVSEHCJlcMas86Wa-VGBlAZQpnqh2TlaHXhyVbm-gHFGU0u26Pgv5Esw2DEwRh0l7nK1ygg8dL_NNdtnaxTYhWAVPo4Vqcl2a9n-bs65maK02IgBLpaLRUtjfjSIV17YBzlr6ekr7GwkDTD79d3Uc2GSSGzWqKlFtXmM9cFkfGGOYcaQLoELbkxaGfLmKI53HIxXUK28JjVCxITGl60u_Z5bQ","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed448","x":"AA"},{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := parseJWKS(body)
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("no error and no keys")
		}
		for _, k := range keys {
			if !k.IsPublic() || !k.Valid() {
				t.Fatalf("kept a key that is not a valid public key: %v", k.KeyID)
			}
		}
	})
}

func FuzzParseIntrospection(f *testing.F) {
	f.Add([]byte(`{"active":true,"sub":"u","exp":1750000000,"scope":"a b"}`))
	f.Add([]byte(`{"active":"true"}`))
	f.Add([]byte(`{"active":false,"sub":"u"}`))
	f.Add([]byte(`{"active":true} {"active":false}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		active, claims, err := parseIntrospection(body)
		if err != nil {
			if active || claims != nil {
				t.Fatal("error with a result")
			}
			return
		}
		if active != (claims != nil) {
			t.Fatalf("active=%v with claims %v", active, claims)
		}
		if active && claims["active"] != true {
			t.Fatal("active without a boolean true")
		}
	})
}

func FuzzJWTExpiry(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	f.Add("h." + enc([]byte(`{"exp":1750000000}`)) + ".s")
	f.Add("h." + enc([]byte(`{"exp":1e300}`)) + ".s")
	f.Add("h." + enc([]byte(`{"exp":"1750000000"}`)) + ".s")
	f.Add("opaque-token")
	f.Fuzz(func(t *testing.T, raw string) {
		exp, ok := jwtExpiry(raw)
		if !ok {
			if !exp.IsZero() {
				t.Fatal("not ok with a time")
			}
			return
		}
		if exp.Unix() <= 0 || exp.Unix() > maxUnix || exp.Add(DefaultRefreshWindow).Before(exp) {
			t.Fatalf("accepted out-of-range exp %v", exp)
		}
		_ = NeedsRefresh(Tokens{RefreshToken: "r", Expiry: exp}, time.Now(), 0)
	})
}

func TestAlgorithmsPinned(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		published []string
		want      string
	}{
		{nil, "RS256"},
		{[]string{"RS256", "ES256"}, "RS256,ES256"},
		{[]string{"HS256", "none", "EdDSA"}, "EdDSA"},
		{[]string{"HS256", "none"}, ""},
	} {
		got := strings.Join(metadata{IDTokenSigningAlgs: tc.published}.algorithms(), ",")
		if got != tc.want {
			t.Errorf("algorithms(%v) = %q, want %q", tc.published, got, tc.want)
		}
	}
	// A provider publishing only algorithms we refuse to verify makes ID
	// token logins unavailable (503), not a 401 for the user or a 500.
	p, err := New(Config{Issuer: "https://op.example.test", ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.verify(context.Background(), &state{}, "a.b.c", "")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}

func TestRetryAfterHints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want time.Duration
	}{
		{unavailable(0, "x"), time.Second},
		{unavailable(1500*time.Millisecond, "x"), 1500 * time.Millisecond},
		{fmt.Errorf("wrapped: %w", unavailable(7*time.Second, "x")), 7 * time.Second},
		{ErrUnavailable, time.Second},
		{fmt.Errorf("%w: invalid_client (HTTP 401)", ErrRejected), time.Minute},
		{ErrInvalidGrant, 0},
		{nil, 0},
	} {
		if got := RetryAfter(tc.err); got != tc.want {
			t.Errorf("RetryAfter(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
