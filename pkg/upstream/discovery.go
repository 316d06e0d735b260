package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// discoveryPath is appended to the issuer (OpenID Connect Discovery 1.0 §4).
const discoveryPath = "/.well-known/openid-configuration"

// maxBody caps every response body we read from the provider.
const maxBody = 1 << 20

// metadata is the part of the discovery document this package uses.
type metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	IDTokenSigningAlgs    []string `json:"id_token_signing_alg_values_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectAuthMethods []string `json:"introspection_endpoint_auth_methods_supported"`
	RevokeAuthMethods     []string `json:"revocation_endpoint_auth_methods_supported"`
}

// supportedAlgs are the ID token algorithms go-oidc verifies. "none" and the
// HMAC algorithms are never among them.
var supportedAlgs = map[string]bool{
	oidc.RS256: true, oidc.RS384: true, oidc.RS512: true,
	oidc.ES256: true, oidc.ES384: true, oidc.ES512: true,
	oidc.PS256: true, oidc.PS384: true, oidc.PS512: true,
	oidc.EdDSA: true,
}

// parseMetadata decodes a discovery document fetched for issuer and checks
// what we rely on: the issuer matches exactly (Discovery §4.3, which stops a
// document at one URL from speaking for another issuer), the token endpoint
// and JWKS URI are absolute http(s) URLs, and optional endpoints, when
// present, are too.
func parseMetadata(body []byte, issuer string) (metadata, error) {
	var m metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return metadata{}, errors.New("discovery document is not valid JSON")
	}
	if m.Issuer != issuer {
		return metadata{}, fmt.Errorf("discovery document names issuer %q, configured %q", m.Issuer, issuer)
	}
	for _, ep := range []struct {
		name, v  string
		required bool
	}{
		{"token_endpoint", m.TokenEndpoint, true},
		{"jwks_uri", m.JWKSURI, true},
		{"introspection_endpoint", m.IntrospectionEndpoint, false},
		{"revocation_endpoint", m.RevocationEndpoint, false},
	} {
		if ep.v == "" && !ep.required {
			continue
		}
		u, err := url.Parse(ep.v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return metadata{}, fmt.Errorf("discovery document has no usable %s", ep.name)
		}
	}
	return m, nil
}

// algorithms returns the published ID token algorithms go-oidc can verify.
// A document that publishes none gets RS256, the one OpenID Connect Core
// §15.1 makes mandatory; one that publishes only unsupported algorithms
// gets an empty list, and every ID token is then refused.
func (m metadata) algorithms() []string {
	if len(m.IDTokenSigningAlgs) == 0 {
		return []string{oidc.RS256}
	}
	var out []string
	for _, a := range m.IDTokenSigningAlgs {
		if supportedAlgs[a] {
			out = append(out, a)
		}
	}
	return out
}

// state is everything derived from one fetch of the discovery document. It
// is immutable and replaced whole when it ages past Config.DiscoveryTTL, so
// the JWKS cache it holds has the same bounded lifetime.
type state struct {
	md         metadata
	fetched    time.Time
	tokenStyle oauth2.AuthStyle
	keys       *keySet
	verifier   *oidc.IDTokenVerifier
	algs       []string
}

// discoveryCall is one discovery fetch in flight, shared by every caller
// that needs the state while it runs.
type discoveryCall struct {
	done chan struct{}
	s    *state
	err  error
}

// current returns the cached state, fetching the discovery document when
// there is none or it is older than DiscoveryTTL. Concurrent callers share
// one fetch. A failed fetch is not cached: the next call tries again. The
// fetch itself runs detached from ctx (bounded by RequestTimeout), so one
// caller giving up does not fail the others; each caller waits only as long
// as its own ctx allows.
func (p *Provider) current(ctx context.Context) (*state, error) {
	p.mu.Lock()
	if s := p.cur; s != nil && p.cfg.Now().Sub(s.fetched) < p.cfg.DiscoveryTTL {
		p.mu.Unlock()
		return s, nil
	}
	c := p.inflight
	if c == nil {
		c = &discoveryCall{done: make(chan struct{})}
		p.inflight = c
		go p.discover(c)
	}
	p.mu.Unlock()

	select {
	case <-c.done:
		return c.s, c.err
	case <-ctx.Done():
		return nil, unavailable(0, "discovery: %v", ctx.Err())
	}
}

func (p *Provider) discover(c *discoveryCall) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.RequestTimeout)
	defer cancel()
	s, err := p.fetchState(ctx)
	c.s, c.err = s, err
	p.mu.Lock()
	if err == nil {
		p.cur = s
	}
	p.inflight = nil
	p.mu.Unlock()
	close(c.done)
}

func (p *Provider) fetchState(ctx context.Context) (*state, error) {
	u := strings.TrimSuffix(p.cfg.Issuer, "/") + discoveryPath
	body, retryAfter, err := p.getJSON(ctx, u)
	if err != nil {
		return nil, unavailable(retryAfter, "discovery: %v", err)
	}
	md, err := parseMetadata(body, p.cfg.Issuer)
	if err != nil {
		return nil, unavailable(0, "discovery: %v", err)
	}
	s := &state{
		md:         md,
		fetched:    p.cfg.Now(),
		tokenStyle: authStyle(p.authMethod(md.TokenAuthMethods)),
		algs:       md.algorithms(),
	}
	joseAlgs := make([]jose.SignatureAlgorithm, len(s.algs))
	for i, a := range s.algs {
		joseAlgs[i] = jose.SignatureAlgorithm(a)
	}
	s.keys = &keySet{p: p, url: md.JWKSURI, algs: joseAlgs}
	s.verifier = oidc.NewVerifier(md.Issuer, s.keys, &oidc.Config{
		ClientID:             p.cfg.ClientID,
		SupportedSigningAlgs: s.algs,
		Now:                  p.cfg.Now,
	})
	return s, nil
}

// getJSON GETs u and returns the body of a 200 answer. A non-200 answer is
// an error whose text holds the status only (a provider's error page is no
// business of our logs); for 429 and 503 the Retry-After hint is returned.
func (p *Provider) getJSON(ctx context.Context, u string) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, errors.New("bad URL")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, transportReason(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, 0, errors.New("reading the response failed")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, parseRetryAfter(resp.Header.Get("Retry-After"), p.cfg.Now()), fmt.Errorf("HTTP %d from %s", resp.StatusCode, redactURL(u))
	}
	return body, 0, nil
}

// authMethod picks the client authentication for an endpoint that
// publishes supported (see Config.AuthMethod).
func (p *Provider) authMethod(supported []string) string {
	switch {
	case p.cfg.AuthMethod != "":
		return p.cfg.AuthMethod
	case p.cfg.ClientSecret == "":
		return AuthMethodNone
	case len(supported) == 0 || contains(supported, AuthMethodBasic):
		return AuthMethodBasic
	case contains(supported, AuthMethodPost):
		return AuthMethodPost
	}
	return AuthMethodBasic
}

func authStyle(method string) oauth2.AuthStyle {
	if method == AuthMethodBasic {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// redactURL drops the query (it never carries anything we need in logs).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}
