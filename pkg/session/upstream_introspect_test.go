package session

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/upstream"
	"github.com/sessionkit/sessiond/pkg/upstream/upstreamtest"
)

// A back end hands over an opaque provider access token without an
// expiry: Create asks the provider (RFC 7662 at oauth2-mock-server, a real
// provider in another process) whether it is active and when it expires.
func TestCreateIntrospectsOpaqueUpstreamToken(t *testing.T) {
	issuer := upstreamtest.StartNodeOIDC(t)
	p, err := upstream.New(upstream.Config{Issuer: issuer, ClientID: "sessiond-test", ClientSecret: "node-client-secret",
		RedirectURIs: []string{"http://127.0.0.1:9/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) { c.Upstream = p })
	before := time.Now()
	is, err := e.Create(e.ctx, CreateRequest{UserID: "opaque", Client: client("203.0.113.7", chromeUA),
		Upstream: &upstream.Tokens{AccessToken: "opaque-access-token", RefreshToken: "opaque-refresh"}})
	if err != nil {
		t.Fatal(err)
	}
	exp := is.Session.UpstreamExpiry
	if exp == nil || exp.Before(before.Add(59*time.Minute)) || exp.After(before.Add(61*time.Minute)) {
		t.Fatalf("upstream expiry = %v, want about an hour from now (the provider's exp)", exp)
	}
	if !slices.Contains(e.actions(t, is.Session.ID), "upstream.introspected") {
		t.Fatal("no upstream.introspected event")
	}

	_, err = e.Create(e.ctx, CreateRequest{UserID: "opaque", Upstream: &upstream.Tokens{AccessToken: "inactive-token"}})
	var ire *InvalidRequestError
	if !errors.As(err, &ire) || ire.Field != "upstream.access_token" {
		t.Fatalf("inactive provider token: %v", err)
	}
	// With an expiry given, nothing is asked.
	known := time.Now().Add(30 * time.Minute).Truncate(time.Second)
	is, err = e.Create(e.ctx, CreateRequest{UserID: "opaque", Upstream: &upstream.Tokens{AccessToken: "inactive-but-not-asked", Expiry: known}})
	if err != nil || !is.Session.UpstreamExpiry.Equal(known) {
		t.Fatalf("known expiry: %v %v", err, is.Session.UpstreamExpiry)
	}
}
