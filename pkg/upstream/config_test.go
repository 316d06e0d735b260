package upstream

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	full := []string{
		"OIDC_ISSUER", "https://op.example.test",
		"OIDC_CLIENT_ID", "client-1",
		"OIDC_CLIENT_SECRET", "s3cr3t-value",
		"OIDC_REDIRECT_URIS", " https://a.example.test/cb , http://127.0.0.1:3000/cb,",
		"UPSTREAM_REFRESH_WINDOW", "90s",
	}
	c, err := ConfigFromEnv(env(full...))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://op.example.test" || c.ClientID != "client-1" || c.ClientSecret != "s3cr3t-value" ||
		strings.Join(c.RedirectURIs, "|") != "https://a.example.test/cb|http://127.0.0.1:3000/cb" || c.RefreshWindow != 90*time.Second {
		t.Fatalf("config = %+v", c)
	}

	if _, err := ConfigFromEnv(env()); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("empty env: %v, want ErrNotConfigured", err)
	}
	for _, tc := range []struct {
		name    string
		env     []string
		mention string
	}{
		{"issuer without client id", []string{"OIDC_ISSUER", "https://op.example.test"}, "OIDC_CLIENT_ID"},
		{"client id without issuer", []string{"OIDC_CLIENT_ID", "c"}, "OIDC_ISSUER"},
		{"plain http issuer", []string{"OIDC_ISSUER", "http://op.example.test", "OIDC_CLIENT_ID", "c"}, "OIDC_ISSUER"},
		{"relative issuer", []string{"OIDC_ISSUER", "op.example.test", "OIDC_CLIENT_ID", "c"}, "OIDC_ISSUER"},
		{"issuer with query", []string{"OIDC_ISSUER", "https://op.example.test/?a=b", "OIDC_CLIENT_ID", "c"}, "OIDC_ISSUER"},
		{"redirect with fragment", []string{"OIDC_ISSUER", "https://op.example.test", "OIDC_CLIENT_ID", "c", "OIDC_REDIRECT_URIS", "https://a/cb#x"}, "OIDC_REDIRECT_URIS"},
		{"relative redirect", []string{"OIDC_ISSUER", "https://op.example.test", "OIDC_CLIENT_ID", "c", "OIDC_REDIRECT_URIS", "/cb"}, "OIDC_REDIRECT_URIS"},
		{"bad window", []string{"OIDC_ISSUER", "https://op.example.test", "OIDC_CLIENT_ID", "c", "UPSTREAM_REFRESH_WINDOW", "5 minutes"}, "UPSTREAM_REFRESH_WINDOW"},
		{"negative window", []string{"OIDC_ISSUER", "https://op.example.test", "OIDC_CLIENT_ID", "c", "UPSTREAM_REFRESH_WINDOW", "-1m"}, "UPSTREAM_REFRESH_WINDOW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfigFromEnv(env(tc.env...))
			if err == nil || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("got %v, want an error naming %s", err, tc.mention)
			}
		})
	}
	// The secret never appears in an error, even when something else is wrong.
	_, err = ConfigFromEnv(env("OIDC_ISSUER", "ftp://x", "OIDC_CLIENT_ID", "c", "OIDC_CLIENT_SECRET", "s3cr3t-value"))
	assertNoSecret(t, err, "s3cr3t-value")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Issuer: "http://localhost:8080/realms/x", ClientID: "c"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("loopback http issuer refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		mut  func(*Config)
	}{
		{"unknown auth method", func(c *Config) { c.AuthMethod = "private_key_jwt" }},
		{"none with a secret", func(c *Config) { c.AuthMethod = AuthMethodNone; c.ClientSecret = "s" }},
		{"negative budget", func(c *Config) { c.Retry.Budget = -1 }},
		{"negative attempts", func(c *Config) { c.Retry.MaxAttempts = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mut(&c)
			if err := c.Validate(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	d := ok.withDefaults()
	if d.RefreshWindow != DefaultRefreshWindow || d.Retry.MaxAttempts != DefaultMaxAttempts || d.Retry.Budget != DefaultRetryBudget ||
		d.DiscoveryTTL != DefaultDiscoveryTTL || d.HTTPClient == nil || d.Now == nil || d.Sleep == nil {
		t.Fatalf("defaults not applied: %+v", d)
	}
	if d.HTTPClient.CheckRedirect == nil {
		t.Fatal("default client follows redirects")
	}
}

func TestAuthMethodChoice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		explicit, secret string
		supported        []string
		want             string
	}{
		{"", "s", nil, AuthMethodBasic},
		{"", "s", []string{AuthMethodPost, AuthMethodBasic}, AuthMethodBasic},
		{"", "s", []string{AuthMethodPost}, AuthMethodPost},
		{"", "s", []string{"private_key_jwt"}, AuthMethodBasic},
		{"", "", []string{AuthMethodBasic}, AuthMethodNone},
		{AuthMethodPost, "s", []string{AuthMethodBasic}, AuthMethodPost},
	} {
		p := &Provider{cfg: Config{AuthMethod: tc.explicit, ClientSecret: tc.secret}}
		if got := p.authMethod(tc.supported); got != tc.want {
			t.Errorf("authMethod(%q, secret %q, %v) = %q, want %q", tc.explicit, tc.secret, tc.supported, got, tc.want)
		}
	}
}
