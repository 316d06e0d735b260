package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The dev-only routes of cmd/sessiond's example app. They are never mounted
// under api/ (so never deployed as functions), and answer 404 on any Vercel
// environment but development even if some server mounts them.

var (
	devSignInEndpoint = endpoint{methods: []string{http.MethodPost}}
	devConfigEndpoint = endpoint{methods: []string{http.MethodGet}}
)

// devAllowed reports whether the dev routes may answer: only off Vercel
// (VERCEL_ENV unset) or in `vercel dev` (development). SPEC refuses the
// embedded store in production; these routes are refused on every deployed
// environment, preview included.
func devAllowed(vercelEnv string) bool {
	return vercelEnv == "" || vercelEnv == "development"
}

func errNoEndpoint() *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Description: "no such endpoint"}
}

// DevSignIn serves POST /dev/sign-in {"user_id", "device"?}: the trusted
// dev flow of the example app. It creates a session like the admin path of
// POST /api/sessions and answers the same JSON (and cookie, in cookie mode),
// without any credential: that is why it exists only on the local server. A
// browser request must come from an allowed origin or the server's own; in
// cookie mode it also needs X-Sessiond-CSRF: 1, as every request that sets
// or reads the refresh cookie.
func (a *App) DevSignIn(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, devSignInEndpoint, func(c *call) error {
		if !c.st.devMode {
			return errNoEndpoint()
		}
		if c.st.cfg.CookieMode {
			if err := c.checkCSRF(); err != nil {
				return err
			}
		} else if o := r.Header.Get("Origin"); o != "" && !c.st.cors.allowed(o) && !c.sameOrigin(o) {
			return forbidden("origin not allowed")
		}
		kind, body, err := readBody(w, r, false)
		if err != nil {
			return err
		}
		req, err := parseCreate(kind, body)
		if err != nil {
			return err
		}
		if req.UserID == nil || *req.UserID == "" {
			return badRequest("user_id is required")
		}
		iss, err := c.st.m.Create(c.ctx, sessionCreate(*req.UserID, req, c))
		if err != nil {
			return err
		}
		c.writeCreated(iss)
		return nil
	})
}

// devConfigResponse tells the example app how the server is set up.
type devConfigResponse struct {
	CookieMode   bool   `json:"cookie_mode"`
	Provider     bool   `json:"provider"`
	AuthorizeURL string `json:"authorize_url,omitempty"`
}

// DevConfig serves GET /dev/config. With a provider it also gives the
// provider's authorization endpoint with client_id, response_type=code and
// scope filled in (the app adds state, PKCE and redirect_uri).
func (a *App) DevConfig(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, devConfigEndpoint, func(c *call) error {
		if !c.st.devMode {
			return errNoEndpoint()
		}
		cfg := c.st.cfg
		out := devConfigResponse{CookieMode: cfg.CookieMode, Provider: cfg.OIDCEnabled()}
		if out.Provider {
			ep, err := a.authorizationEndpoint(c.ctx, cfg.OIDCIssuer)
			if err != nil {
				a.logger().Warn("httpapi: dev config: provider discovery failed", "err", err.Error())
			} else {
				q := url.Values{"client_id": {cfg.OIDCClientID}, "response_type": {"code"}, "scope": {"openid profile email"}}
				sep := "?"
				if strings.Contains(ep, "?") {
					sep = "&"
				}
				out.AuthorizeURL = ep + sep + q.Encode()
			}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	})
}

// authorizationEndpoint reads the provider's discovery document (once per
// App; a failure is retried on the next call).
func (a *App) authorizationEndpoint(ctx context.Context, issuer string) (string, error) {
	a.mu.Lock()
	ep := a.authzEndpoint
	a.mu.Unlock()
	if ep != "" {
		return ep, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var doc struct {
		AuthorizationEndpoint string `json:"authorization_endpoint"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc); err != nil {
		return "", err
	}
	u, err := url.Parse(doc.AuthorizationEndpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", &Error{Status: 502, Code: CodeUnavailable, Description: "discovery has no usable authorization_endpoint"}
	}
	a.mu.Lock()
	a.authzEndpoint = doc.AuthorizationEndpoint
	a.mu.Unlock()
	return doc.AuthorizationEndpoint, nil
}
