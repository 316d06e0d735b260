package httpapi

import (
	"errors"
	"net/http"

	"github.com/sessionkit/sessiond/pkg/session"
)

var refreshEndpoint = endpoint{methods: []string{http.MethodPost}}

// refreshResponse is SPEC's 200 body of /api/refresh (RFC 6749 §5.1 shape).
type refreshResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	SessionID        string `json:"session_id"`
}

// Refresh serves POST /api/refresh: rotate a refresh token (RFC 6749 §6),
// from a form or JSON body, or in cookie mode from the cookie.
func (a *App) Refresh(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, refreshEndpoint, func(c *call) error {
		kind, body, err := readBody(w, r, true)
		if err != nil {
			return err
		}
		req, err := parseRefresh(kind, body)
		if err != nil {
			return err
		}
		fromCookie := false
		if req.RefreshToken == "" {
			tok, ok := c.refreshCookie()
			if !ok {
				return badRequest("refresh_token is required")
			}
			if err := c.checkCSRF(); err != nil {
				return err
			}
			req.RefreshToken, fromCookie = tok, true
		}
		iss, err := c.st.m.Refresh(c.ctx, session.RefreshRequest{
			RefreshToken: req.RefreshToken, Device: req.device, Client: c.client,
		})
		if err != nil {
			if fromCookie && errors.Is(err, session.ErrInvalidGrant) {
				// The cookie holds a dead token: drop it, so the client
				// stops presenting it and shows "signed out".
				c.clearRefreshCookie()
			}
			return err
		}
		resp := refreshResponse{
			AccessToken: iss.AccessToken, TokenType: "Bearer", ExpiresIn: iss.ExpiresIn,
			RefreshToken: iss.RefreshToken, RefreshExpiresIn: iss.RefreshExpiresIn, SessionID: iss.Session.ID,
		}
		if c.st.cfg.CookieMode {
			c.setRefreshCookie(iss.RefreshToken, iss.RefreshExpiresIn)
			resp.RefreshToken = ""
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	})
}
