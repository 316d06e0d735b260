package config

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/token"
)

// envOf turns a map into a getenv function.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func testPrivatePEM(seed byte) (ed25519.PrivateKey, string) {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	p, err := token.EncodePrivateKeyPEM(k)
	if err != nil {
		panic(err)
	}
	return k, string(p)
}

func testPublicPEM(seed byte) (ed25519.PublicKey, string) {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)).Public().(ed25519.PublicKey)
	p, err := token.EncodePublicKeyPEM(k)
	if err != nil {
		panic(err)
	}
	return k, string(p)
}

var testEncKey = bytes.Repeat([]byte{0xfb, 0xef, 0x7e}, 11)[:32] // has + / - _ in base64

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Issuer":                DefaultIssuer,
		"Audience":              "sessions",
		"AccessTokenTTL":        15 * time.Minute,
		"IdleTimeout":           24 * time.Hour,
		"AbsoluteTimeout":       168 * time.Hour,
		"RefreshGrace":          10 * time.Second,
		"MaxPerUser":            10,
		"DeviceMatchThreshold":  0.8,
		"RiskBlock":             0.7,
		"AuditRetention":        720 * time.Hour,
		"AdminKey":              "",
		"IntrospectKey":         "",
		"RateLimitScale":        1.0,
		"TrustProxy":            false,
		"CronSecret":            "",
		"OIDCIssuer":            "",
		"OIDCClientID":          "",
		"OIDCClientSecret":      "",
		"UpstreamRefreshWindow": 5 * time.Minute,
		"CookieMode":            false,
		"VercelEnv":             "",
		"Addr":                  "127.0.0.1:3000",
		"GeneratedKeys":         []string{"SESSION_JWT_PRIVATE_KEY", "SESSION_ENCRYPTION_KEY"},
	}
	v := reflect.ValueOf(c).Elem()
	for name, w := range want {
		if got := v.FieldByName(name).Interface(); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", name, got, w)
		}
	}
	for _, name := range []string{"JWTPreviousKeys", "AllowedOrigins", "OIDCRedirectURIs"} {
		if v.FieldByName(name).Len() != 0 {
			t.Errorf("%s not empty by default", name)
		}
	}
	if len(c.JWTPrivateKey) != ed25519.PrivateKeySize || len(c.EncryptionKey) != 32 {
		t.Fatalf("generated keys have lengths %d, %d", len(c.JWTPrivateKey), len(c.EncryptionKey))
	}
	c2, err := Load(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c2.JWTPrivateKey.Equal(c.JWTPrivateKey) || bytes.Equal(c2.EncryptionKey, c.EncryptionKey) {
		t.Fatal("two loads generated the same keys")
	}
	w := strings.Join(c.Warnings(), "\n")
	if !strings.Contains(w, "SESSION_JWT_PRIVATE_KEY is not set") || !strings.Contains(w, "SESSION_ENCRYPTION_KEY is not set") {
		t.Errorf("Warnings = %q", w)
	}
	// Every struct field is covered by the table or the checks above: a new
	// field without a test fails here.
	covered := len(want) + 3 + 2
	if n := v.NumField(); n != covered {
		t.Errorf("Config has %d fields, the test covers %d", n, covered)
	}
}

// field reads one field of a Config by name, for table tests.
func field(c *Config, name string) any {
	return reflect.ValueOf(c).Elem().FieldByName(name).Interface()
}

func TestVariables(t *testing.T) {
	t.Parallel()
	priv, privPEM := testPrivatePEM(1)
	pub2, pub2PEM := testPublicPEM(2)
	pub3, pub3PEM := testPublicPEM(3)
	_, priv4PEM := testPrivatePEM(4)

	type ok struct {
		in   string
		want any
	}
	type bad struct {
		in     string
		msg    string // substring of the error
		secret bool   // the value must not appear in the error
	}
	cases := []struct {
		name  string // variable
		field string
		ok    []ok
		bad   []bad
	}{
		{"SESSION_ISSUER", "Issuer",
			[]ok{{"https://auth.example.com", "https://auth.example.com"}, {" http://localhost:8080/ ", "http://localhost:8080/"}},
			[]bad{{in: "auth.example.com", msg: "not an absolute http(s) URL"}, {in: "ftp://x", msg: "not an absolute"}, {in: "https://x/?q=1", msg: "without query"}}},
		{"SESSION_AUDIENCE", "Audience",
			[]ok{{"api", "api"}, {"  api  ", "api"}}, nil},
		{"SESSION_ACCESS_TOKEN_TTL", "AccessTokenTTL",
			[]ok{{"5m", 5 * time.Minute}, {"1h30m", 90 * time.Minute}},
			[]bad{{in: "abc", msg: `"abc" is not a Go duration`}, {in: "15", msg: "not a Go duration"}, {in: "0s", msg: "greater than 0"}, {in: "-1m", msg: "greater than 0"}}},
		{"SESSION_IDLE_TIMEOUT", "IdleTimeout",
			[]ok{{"1h", time.Hour}, {"168h", 168 * time.Hour}},
			[]bad{{in: "abc", msg: `"abc" is not a Go duration`}, {in: "0", msg: "greater than 0"}, {in: "169h", msg: "longer than SESSION_ABSOLUTE_TIMEOUT"}}},
		{"SESSION_ABSOLUTE_TIMEOUT", "AbsoluteTimeout",
			[]ok{{"720h", 720 * time.Hour}},
			[]bad{{in: "1 week", msg: "not a Go duration"}, {in: "-5h", msg: "greater than 0"}}},
		{"SESSION_REFRESH_GRACE", "RefreshGrace",
			[]ok{{"30s", 30 * time.Second}, {"0s", time.Duration(0)}},
			[]bad{{in: "soon", msg: "not a Go duration"}, {in: "-1s", msg: "must not be negative"}}},
		{"SESSION_MAX_PER_USER", "MaxPerUser",
			[]ok{{"1", 1}, {"250", 250}},
			[]bad{{in: "0", msg: "greater than 0"}, {in: "-3", msg: "greater than 0"}, {in: "ten", msg: "not an integer"}, {in: "2.5", msg: "not an integer"}}},
		{"SESSION_DEVICE_MATCH_THRESHOLD", "DeviceMatchThreshold",
			[]ok{{"0", 0.0}, {"1", 1.0}, {"0.95", 0.95}},
			[]bad{{in: "1.01", msg: "between 0 and 1"}, {in: "-0.1", msg: "between 0 and 1"}, {in: "NaN", msg: "not a number"}, {in: "high", msg: "not a number"}}},
		{"SESSION_RISK_BLOCK", "RiskBlock",
			[]ok{{"0.5", 0.5}},
			[]bad{{in: "2", msg: "between 0 and 1"}, {in: "Inf", msg: "not a number"}}},
		{"SESSION_AUDIT_RETENTION", "AuditRetention",
			[]ok{{"24h", 24 * time.Hour}},
			[]bad{{in: "30d", msg: "not a Go duration"}, {in: "0s", msg: "greater than 0"}}},
		{"SESSION_ADMIN_KEY", "AdminKey",
			[]ok{{"0123456789abcdef", "0123456789abcdef"}, {" admin-key-of-some-length \n", "admin-key-of-some-length"}},
			[]bad{{in: "short-secret", msg: "shorter than 16 bytes", secret: true}}},
		{"SESSION_INTROSPECT_KEY", "IntrospectKey",
			[]ok{{"introspection-secret-123", "introspection-secret-123"}},
			[]bad{{in: "tiny", msg: "shorter than 16 bytes", secret: true}}},
		{"CRON_SECRET", "CronSecret",
			[]ok{{"cron-secret-cron-secret", "cron-secret-cron-secret"}},
			[]bad{{in: "cron-secret-15b", msg: "shorter than 16 bytes", secret: true}}},
		{"SESSION_ENCRYPTION_KEY", "EncryptionKey",
			[]ok{
				{base64.StdEncoding.EncodeToString(testEncKey), testEncKey},
				{base64.RawStdEncoding.EncodeToString(testEncKey), testEncKey},
				{base64.URLEncoding.EncodeToString(testEncKey), testEncKey},
				{base64.RawURLEncoding.EncodeToString(testEncKey), testEncKey},
			},
			[]bad{
				{in: "not base64 at all!", msg: "not valid base64", secret: true},
				{in: base64.StdEncoding.EncodeToString(testEncKey[:16]), msg: "decodes to 16 bytes, want 32", secret: true},
				{in: strings.Repeat("ab", 32), msg: "looks like hex", secret: true},
				{in: base64.StdEncoding.EncodeToString(make([]byte, 32)), msg: "all zero", secret: true},
			}},
		{"SESSION_JWT_PRIVATE_KEY", "JWTPrivateKey",
			[]ok{
				{privPEM, priv},
				{strings.ReplaceAll(privPEM, "\n", `\n`), priv},
				{strings.ReplaceAll(privPEM, "\n", " "), priv},
			},
			[]bad{
				{in: pub2PEM, msg: `PEM block is "PUBLIC KEY"`, secret: true},
				{in: "MC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB", msg: "no PEM block", secret: true},
				{in: strings.Replace(privPEM, "MC4", "MC5", 1), msg: "not a PKCS#8", secret: true},
			}},
		{"SESSION_JWT_PREVIOUS_KEYS", "JWTPreviousKeys",
			[]ok{
				{pub2PEM, []ed25519.PublicKey{pub2}},
				{pub2PEM + pub3PEM, []ed25519.PublicKey{pub2, pub3}},
				{strings.ReplaceAll(pub3PEM+pub2PEM, "\n", `\n`), []ed25519.PublicKey{pub3, pub2}},
			},
			[]bad{
				{in: pub2PEM + priv4PEM, msg: "PEM block 2 is a private key", secret: true},
				{in: "garbage", msg: "no PEM block"},
			}},
		{"SESSION_ALLOWED_ORIGINS", "AllowedOrigins",
			[]ok{
				{"https://app.example.com", []string{"https://app.example.com"}},
				{" https://a.example.com , http://localhost:5173,", []string{"https://a.example.com", "http://localhost:5173"}},
				{"HTTPS://App.Example.COM:443/", []string{"https://app.example.com"}},
				{"http://[::1]:8080,http://x.test:80", []string{"http://[::1]:8080", "http://x.test"}},
				{"https://a.test,https://A.test", []string{"https://a.test"}},
			},
			[]bad{
				{in: "*", msg: "not allowed"},
				{in: "app.example.com", msg: "not an absolute origin"},
				{in: "https://app.example.com/login", msg: "drop the path"},
				{in: "https://app.example.com?x=1", msg: "drop the path, query"},
				{in: "ftp://files.example.com", msg: "scheme must be http or https"},
				{in: "https://ok.test,https://bad.test/x", msg: `"https://bad.test/x"`},
				{in: "https://x.test:99999", msg: "bad port"},
			}},
		{"SESSION_RATE_LIMIT_SCALE", "RateLimitScale",
			[]ok{{"0", 0.0}, {"2.5", 2.5}, {"100", 100.0}},
			[]bad{{in: "-1", msg: "must not be negative"}, {in: "lots", msg: "not a number"}, {in: "+Inf", msg: "not a number"}}},
		{"SESSION_TRUST_PROXY", "TrustProxy",
			[]ok{{"1", true}, {"true", true}, {"TRUE", true}, {"0", false}, {"false", false}},
			[]bad{{in: "yes", msg: "not a boolean"}, {in: "2", msg: "not a boolean"}}},
		{"SESSION_COOKIE_MODE", "CookieMode",
			[]ok{{"1", true}, {"0", false}, {"False", false}},
			[]bad{{in: "on", msg: "not a boolean"}}},
		{"UPSTREAM_REFRESH_WINDOW", "UpstreamRefreshWindow",
			[]ok{{"2m", 2 * time.Minute}},
			[]bad{{in: "5", msg: "not a Go duration"}, {in: "0s", msg: "greater than 0"}}},
		{"VERCEL_ENV", "VercelEnv", nil, nil}, // see TestVercelRequiresKeys
		{"ADDR", "Addr",
			[]ok{{":8080", ":8080"}, {"0.0.0.0:80", "0.0.0.0:80"}, {"[::1]:3000", "[::1]:3000"}, {"127.0.0.1:0", "127.0.0.1:0"}},
			[]bad{{in: "8080", msg: "not host:port"}, {in: "localhost:http", msg: "not host:port"}, {in: ":70000", msg: "not host:port"}}},
		{"PORT", "Addr",
			[]ok{{"8080", "127.0.0.1:8080"}, {"0", "127.0.0.1:0"}},
			[]bad{{in: "http", msg: "not a port number"}, {in: "65536", msg: "not a port number"}, {in: "-1", msg: "not a port number"}}},
	}
	for _, tc := range cases {
		for i, o := range tc.ok {
			t.Run(fmt.Sprintf("%s/ok%d", tc.name, i), func(t *testing.T) {
				env := map[string]string{tc.name: o.in}
				if tc.name == "SESSION_IDLE_TIMEOUT" {
					env["SESSION_ABSOLUTE_TIMEOUT"] = "168h"
				}
				c, err := Load(envOf(env))
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got := field(c, tc.field); !reflect.DeepEqual(got, o.want) {
					t.Fatalf("%s = %#v, want %#v", tc.field, got, o.want)
				}
			})
		}
		for i, b := range tc.bad {
			t.Run(fmt.Sprintf("%s/bad%d", tc.name, i), func(t *testing.T) {
				c, err := Load(envOf(map[string]string{tc.name: b.in}))
				if err == nil || c != nil {
					t.Fatalf("Load = %v, nil; want an error", c)
				}
				var ve *VarError
				if !errors.As(err, &ve) || ve.Name != tc.name {
					t.Fatalf("err = %v, want a *VarError for %s", err, tc.name)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "config: "+tc.name+": ") || !strings.Contains(msg, b.msg) {
					t.Fatalf("err = %q, want %q naming %s", msg, b.msg, tc.name)
				}
				if strings.ContainsAny(msg, "\n\r") {
					t.Fatalf("error is not one line: %q", msg)
				}
				if b.secret && strings.Contains(msg, strings.TrimSpace(b.in)[:min(12, len(strings.TrimSpace(b.in)))]) {
					t.Fatalf("error echoes the secret value: %q", msg)
				}
			})
		}
	}
}

func TestAddrWinsOverPort(t *testing.T) {
	t.Parallel()
	c, err := Load(envOf(map[string]string{"ADDR": ":9000", "PORT": "8080"}))
	if err != nil || c.Addr != ":9000" {
		t.Fatalf("Addr = %v, %v; want :9000", c, err)
	}
	// A bad PORT is not even read when ADDR is set.
	if _, err := Load(envOf(map[string]string{"ADDR": ":9000", "PORT": "x"})); err != nil {
		t.Fatalf("PORT read despite ADDR: %v", err)
	}
}

func TestVercelRequiresKeys(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"production", "preview", "development"} {
		_, err := Load(envOf(map[string]string{"VERCEL_ENV": v}))
		if got := Names(err); !reflect.DeepEqual(got, []string{"SESSION_JWT_PRIVATE_KEY", "SESSION_ENCRYPTION_KEY"}) {
			t.Errorf("VERCEL_ENV=%s: errors for %v (%v)", v, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "required when VERCEL_ENV is set") {
			t.Errorf("VERCEL_ENV=%s: %v", v, err)
		}
	}
	_, privPEM := testPrivatePEM(1)
	env := map[string]string{
		"VERCEL_ENV":              "production",
		"SESSION_JWT_PRIVATE_KEY": privPEM,
		"SESSION_ENCRYPTION_KEY":  base64.StdEncoding.EncodeToString(testEncKey),
	}
	c, err := Load(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.VercelEnv != "production" || len(c.GeneratedKeys) != 0 {
		t.Fatalf("VercelEnv=%q GeneratedKeys=%v", c.VercelEnv, c.GeneratedKeys)
	}
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "SESSION_ISSUER is not set") {
		t.Fatalf("Warnings = %q, want the localhost issuer one", w)
	}
	env["SESSION_ISSUER"] = "https://sessions.example.com"
	if c, err = Load(envOf(env)); err != nil || len(c.Warnings()) != 0 {
		t.Fatalf("Load = %v; Warnings = %q", err, c.Warnings())
	}
}

func TestOIDC(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"OIDC_ISSUER":        "https://accounts.example.com",
		"OIDC_CLIENT_ID":     "sessiond",
		"OIDC_CLIENT_SECRET": "s3cr3t",
		"OIDC_REDIRECT_URIS": "https://app.example.com/callback, com.example.app:/oauth2redirect ,",
	}
	c, err := Load(envOf(good))
	if err != nil {
		t.Fatal(err)
	}
	if !c.OIDCEnabled() || c.OIDCClientID != "sessiond" || c.OIDCClientSecret != "s3cr3t" ||
		!reflect.DeepEqual(c.OIDCRedirectURIs, []string{"https://app.example.com/callback", "com.example.app:/oauth2redirect"}) {
		t.Fatalf("OIDC fields: %+v", c)
	}
	if c, err := Load(envOf(map[string]string{"OIDC_ISSUER": "http://127.0.0.1:9999/", "OIDC_CLIENT_ID": "x"})); err != nil || c.OIDCIssuer != "http://127.0.0.1:9999/" {
		t.Fatalf("loopback http issuer: %v", err)
	}

	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name  string
		env   map[string]string
		names []string
		msg   string
	}{
		{"issuer without client id", with("OIDC_CLIENT_ID", ""), []string{"OIDC_CLIENT_ID"}, "required when OIDC_ISSUER is set"},
		{"client id without issuer", map[string]string{"OIDC_CLIENT_ID": "x"}, []string{"OIDC_CLIENT_ID"}, "set without OIDC_ISSUER"},
		{"secret without issuer", map[string]string{"OIDC_CLIENT_SECRET": "topsecretvalue"}, []string{"OIDC_CLIENT_SECRET"}, "set without OIDC_ISSUER"},
		{"redirects without issuer", map[string]string{"OIDC_REDIRECT_URIS": "https://a.test/cb"}, []string{"OIDC_REDIRECT_URIS"}, "set without OIDC_ISSUER"},
		{"issuer not a URL", with("OIDC_ISSUER", "accounts.example.com"), []string{"OIDC_ISSUER"}, "not an absolute http(s) URL"},
		{"issuer plain http", with("OIDC_ISSUER", "http://accounts.example.com"), []string{"OIDC_ISSUER"}, "must be https"},
		{"issuer with fragment", with("OIDC_ISSUER", "https://a.test/#x"), []string{"OIDC_ISSUER"}, "without query or fragment"},
		{"redirect with fragment", with("OIDC_REDIRECT_URIS", "https://a.test/cb#frag"), []string{"OIDC_REDIRECT_URIS"}, "without fragment"},
		{"redirect relative", with("OIDC_REDIRECT_URIS", "/callback"), []string{"OIDC_REDIRECT_URIS"}, "not an absolute URI"},
		{"redirect without host", with("OIDC_REDIRECT_URIS", "https:///cb"), []string{"OIDC_REDIRECT_URIS"}, "not an absolute URI"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(envOf(tc.env))
			if got := Names(err); !reflect.DeepEqual(got, tc.names) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Fatalf("err = %v (names %v), want %v mentioning %q", err, got, tc.names, tc.msg)
			}
			if strings.Contains(fmt.Sprint(err), "topsecretvalue") || strings.Contains(fmt.Sprint(err), "s3cr3t") {
				t.Fatalf("error echoes the client secret: %v", err)
			}
		})
	}
}

func TestAllErrorsOnOneLine(t *testing.T) {
	t.Parallel()
	_, err := Load(envOf(map[string]string{
		"SESSION_IDLE_TIMEOUT": "abc",
		"SESSION_MAX_PER_USER": "0",
		"SESSION_ADMIN_KEY":    "short",
		"PORT":                 "http",
	}))
	want := []string{"SESSION_IDLE_TIMEOUT", "SESSION_MAX_PER_USER", "SESSION_ADMIN_KEY", "PORT"}
	if got := Names(err); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names = %v, want %v", got, want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || strings.Count(msg, "config: ") != 1 || !strings.HasPrefix(msg, `config: SESSION_IDLE_TIMEOUT: "abc" is not a Go duration`) {
		t.Fatalf("err = %q", msg)
	}
	var ve *VarError
	if !errors.As(err, &ve) || ve.Name != "SESSION_IDLE_TIMEOUT" {
		t.Fatalf("errors.As found %v", ve)
	}
}

func TestLongValuesAreCut(t *testing.T) {
	t.Parallel()
	_, err := Load(envOf(map[string]string{"SESSION_ISSUER": strings.Repeat("x", 500)}))
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), `..."`) && !strings.Contains(err.Error(), `"...`) {
		t.Fatalf("err = %v", err)
	}
}

// TestNoSecretInOutput prints a fully configured Config every way a careless
// caller might and looks for any secret or key material in the output.
func TestNoSecretInOutput(t *testing.T) {
	t.Parallel()
	priv, privPEM := testPrivatePEM(5)
	_, prevPEM := testPublicPEM(6)
	encB64 := base64.StdEncoding.EncodeToString(testEncKey)
	env := map[string]string{
		"SESSION_JWT_PRIVATE_KEY":   privPEM,
		"SESSION_JWT_PREVIOUS_KEYS": prevPEM,
		"SESSION_ENCRYPTION_KEY":    encB64,
		"SESSION_ADMIN_KEY":         "ADMIN-aaaaaaaaaaaaaaaa",
		"SESSION_INTROSPECT_KEY":    "INTRO-bbbbbbbbbbbbbbbb",
		"CRON_SECRET":               "CRON-cccccccccccccccc",
		"OIDC_ISSUER":               "https://accounts.example.com",
		"OIDC_CLIENT_ID":            "client",
		"OIDC_CLIENT_SECRET":        "OIDC-dddddddddddddddd",
	}
	c, err := Load(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		"ADMIN-aaaa", "INTRO-bbbb", "CRON-cccc", "OIDC-dddd",
		encB64[:16], base64.RawURLEncoding.EncodeToString(testEncKey)[:16],
		base64.StdEncoding.EncodeToString(priv.Seed())[:16], base64.RawURLEncoding.EncodeToString(priv.Seed())[:16],
		// Dumps of the byte slices, as %v/%d print them inside a struct.
		strings.TrimSuffix(fmt.Sprint(priv[:4]), "]"), fmt.Sprintf("%x", priv[:8]),
		strings.TrimSuffix(fmt.Sprint(testEncKey[:4]), "]"), fmt.Sprintf("%x", testEncKey[:8]),
	}
	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("start", "config", c, "value", *c)
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("start", "config", c, "value", *c)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jsv, _ := json.Marshal(*c)
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
		"%s": fmt.Sprintf("%s", c), "%x": fmt.Sprintf("%x", c), "%d": fmt.Sprintf("%d", c),
		"value %+v": fmt.Sprintf("%+v", *c), "value %#v": fmt.Sprintf("%#v", *c),
		"String": c.String(), "json": string(js), "json value": string(jsv),
		"slog json": jsonLog.String(), "slog text": textLog.String(),
		"warnings": strings.Join(c.Warnings(), "\n"),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s output contains secret %q:\n%s", name, s, out)
			}
		}
	}
	// It still says what is configured.
	for _, want := range []string{`SESSION_ADMIN_KEY="set"`, `CRON_SECRET="set"`, `SESSION_ENCRYPTION_KEY="set"`,
		`SESSION_JWT_PRIVATE_KEY="kid=` + token.KeyID(priv.Public().(ed25519.PublicKey)) + `"`, `OIDC_CLIENT_ID="client"`} {
		if !strings.Contains(c.String(), want) {
			t.Errorf("String lacks %s: %s", want, c)
		}
	}
	var fromJSON map[string]string
	if err := json.Unmarshal(js, &fromJSON); err != nil || fromJSON["SESSION_INTROSPECT_KEY"] != "set" || fromJSON["SESSION_AUDIENCE"] != "sessions" {
		t.Errorf("JSON form = %s (%v)", js, err)
	}
	if !strings.Contains(jsonLog.String(), `"SESSION_ADMIN_KEY":"set"`) {
		t.Errorf("slog JSON does not use LogValue: %s", jsonLog.String())
	}

	dev, err := Load(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s := dev.String(); !strings.Contains(s, `SESSION_JWT_PRIVATE_KEY="generated kid=`) || !strings.Contains(s, `SESSION_ENCRYPTION_KEY="generated"`) || !strings.Contains(s, `SESSION_ADMIN_KEY="unset"`) {
		t.Errorf("dev String = %s", s)
	}
}

func TestPublicKeys(t *testing.T) {
	t.Parallel()
	priv, privPEM := testPrivatePEM(1)
	p2, p2PEM := testPublicPEM(2)
	p3, p3PEM := testPublicPEM(3)
	c, err := Load(envOf(map[string]string{"SESSION_JWT_PRIVATE_KEY": privPEM, "SESSION_JWT_PREVIOUS_KEYS": p2PEM + "\n" + p3PEM}))
	if err != nil {
		t.Fatal(err)
	}
	got := c.PublicKeys()
	want := []ed25519.PublicKey{priv.Public().(ed25519.PublicKey), p2, p3}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("PublicKeys = %v", got)
	}
	if c.GeneratedKeys[0] != "SESSION_ENCRYPTION_KEY" || len(c.GeneratedKeys) != 1 {
		t.Fatalf("GeneratedKeys = %v", c.GeneratedKeys)
	}
	// The keys work together end to end.
	s, err := token.NewSigner(c.JWTPrivateKey, c.Issuer, c.Audience, c.AccessTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewVerifier(c.Issuer, c.Audience, c.PublicKeys())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(token.AccessClaims{Subject: "u", SessionID: "s", JTI: "j", IssuedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(tok); err != nil {
		t.Fatal(err)
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	_, privPEM := testPrivatePEM(1)
	c, err := Load(envOf(map[string]string{
		"SESSION_JWT_PRIVATE_KEY":  privPEM,
		"SESSION_ENCRYPTION_KEY":   base64.StdEncoding.EncodeToString(testEncKey),
		"SESSION_RATE_LIMIT_SCALE": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], "rate limiting is off") || c.RateLimitEnabled() {
		t.Fatalf("Warnings = %q, RateLimitEnabled = %v", w, c.RateLimitEnabled())
	}
}
