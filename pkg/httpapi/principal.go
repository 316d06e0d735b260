package httpapi

import (
	"crypto/sha256"
	"errors"

	"github.com/sessionkit/sessiond/pkg/session"
	"github.com/sessionkit/sessiond/pkg/token"
)

// principal is who a request acts as: the trusted back end (admin key) or
// the user of an access token.
type principal struct {
	admin  bool
	claims *token.AccessClaims // nil for the admin
}

// owner is the user whose sessions the principal may touch ("" = any).
func (p *principal) owner() string {
	if p.admin {
		return ""
	}
	return p.claims.Subject
}

// current is the caller's own session ("" for the admin).
func (p *principal) current() string {
	if p.admin {
		return ""
	}
	return p.claims.SessionID
}

// failureRule is the lockout counting wrong admin, introspection and cron
// keys from one IP (session.Limits.AdminFailures).
const failureRule = "admin"

// authenticate establishes the principal from the Authorization header:
// the admin key, or (when accessOK) an active access token. Anything else is
// 401 with WWW-Authenticate.
func (c *call) authenticate(accessOK bool) (*principal, error) {
	tok, present, err := bearer(c.r)
	if err != nil {
		return nil, err
	}
	want := "send the admin key as a Bearer credential"
	if accessOK {
		want = "send an access token or the admin key as a Bearer credential"
	}
	if !present {
		return nil, unauthorized("", "%s", want)
	}
	if keyEqual(tok, c.st.cfg.AdminKey) {
		return &principal{admin: true}, nil
	}
	if !accessOK || !looksLikeJWT(tok) {
		return nil, c.keyFailure(want)
	}
	claims, err := c.st.m.Authenticate(c.ctx, tok, c.client)
	if err != nil {
		return nil, err
	}
	return &principal{claims: claims}, nil
}

// requireKey accepts only the given secrets (admin, introspection or cron
// key, in constant time); anything else is 401 and counts toward the
// caller's lockout. It returns the secret that matched.
func (c *call) requireKey(what string, keys ...*secret) (*secret, error) {
	tok, present, err := bearer(c.r)
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, unauthorized("", "send %s as a Bearer credential", what)
	}
	given := sha256.Sum256([]byte(tok))
	var match *secret
	for _, k := range keys {
		// No early exit: every configured key is compared.
		if k.equal(&given) {
			match = k
		}
	}
	if match != nil {
		return match, nil
	}
	return nil, c.keyFailure("send " + what + " as a Bearer credential")
}

// keyFailure records a wrong key from the caller's IP and returns 401, or
// 429 once the IP is locked out.
func (c *call) keyFailure(desc string) error {
	err := c.st.m.RecordFailure(c.ctx, failureRule, ipString(c.client), c.client)
	var rle *session.RateLimitError
	if errors.As(err, &rle) {
		return err
	}
	if err != nil {
		c.app.logger().Warn("httpapi: could not record a key failure", "err", err.Error())
	}
	return unauthorized("invalid_token", "%s", desc)
}

func ipString(cl session.Client) string {
	if !cl.IP.IsValid() {
		return ""
	}
	return cl.IP.String()
}
