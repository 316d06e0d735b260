package httpapi

import (
	"net/http"
)

var revokeEndpoint = endpoint{methods: []string{http.MethodPost}}

// revokedResponse is the admin extension's answer.
type revokedResponse struct {
	Revoked int `json:"revoked"`
}

// Revoke serves POST /api/revoke (RFC 7009). Holding the token is the
// authority; the answer is 200 whether or not the token was known, so the
// endpoint tells nobody which tokens exist. The admin extension ends
// sessions by id, or every session of a user (logout everywhere).
func (a *App) Revoke(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, revokeEndpoint, func(c *call) error {
		kind, body, err := readBody(w, r, true)
		if err != nil {
			return err
		}
		req, err := parseRevoke(kind, body)
		if err != nil {
			return err
		}
		if req.admin() {
			return c.adminRevoke(req)
		}
		fromCookie := false
		cookieTok, hasCookie := c.refreshCookie()
		if req.Token == "" {
			if !hasCookie {
				return badRequest("token is required")
			}
			if err := c.checkCSRF(); err != nil {
				return err
			}
			req.Token, req.Hint, fromCookie = cookieTok, hintRefresh, true
		}
		if err := c.st.m.Revoke(c.ctx, req.Token, req.Hint, c.client); err != nil {
			return err
		}
		if fromCookie || (hasCookie && keyEqual(req.Token, cookieTok)) {
			c.clearRefreshCookie()
		}
		writeRaw(w, http.StatusOK, []byte(`{}`))
		return nil
	})
}

// adminRevoke ends the listed sessions or all of a user's sessions.
func (c *call) adminRevoke(req *revokeRequest) error {
	if _, err := c.requireKey("the admin key", c.st.adminKey); err != nil {
		return err
	}
	var (
		n   int
		err error
	)
	if req.SessionIDs != nil {
		n, err = c.st.m.RevokeSessions(c.ctx, *req.SessionIDs, c.client)
	} else {
		n, err = c.st.m.RevokeUser(c.ctx, *req.UserID, c.client)
	}
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, revokedResponse{Revoked: n})
	return nil
}
