package httpapi

import (
	"net/http"
)

// The dev-only routes of cmd/sessiond's example app. They are never mounted
// under api/ (so never deployed as functions), and answer 404 when
// VERCEL_ENV=production even if some server mounts them.

var (
	devSignInEndpoint = endpoint{methods: []string{http.MethodPost}}
	devConfigEndpoint = endpoint{methods: []string{http.MethodGet}}
)

// DevSignIn serves POST /dev/sign-in {"user_id", "device"?}: the trusted
// dev flow of the example app. It creates a session like the admin path of
// POST /api/sessions and answers the same JSON (and cookie, in cookie mode),
// without any credential: that is why it exists only on the local server. A
// browser request must come from an allowed or the server's own origin.
func (a *App) DevSignIn(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, devSignInEndpoint, func(c *call) error {
		if !c.st.devMode {
			return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Description: "no such endpoint"}
		}
		if o := r.Header.Get("Origin"); o != "" && !c.st.cors.allowed(o) && !c.sameOrigin(o) {
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
		if req.UserID == nil {
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
	CookieMode bool `json:"cookie_mode"`
	Provider   bool `json:"provider"`
}

// DevConfig serves GET /dev/config.
func (a *App) DevConfig(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, devConfigEndpoint, func(c *call) error {
		if !c.st.devMode {
			return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Description: "no such endpoint"}
		}
		writeJSON(w, http.StatusOK, devConfigResponse{
			CookieMode: c.st.cfg.CookieMode,
			Provider:   c.st.cfg.OIDCIssuer != "" && c.st.cfg.OIDCClientID != "",
		})
		return nil
	})
}
