package httpapi

import (
	"errors"
	"net/http"
	"strconv"

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
		if b, ok := resp.appendJSON(make([]byte, 0, 1024)); ok {
			writeRaw(w, http.StatusOK, b)
		} else {
			writeJSON(w, http.StatusOK, resp)
		}
		return nil
	})
}

// appendJSON appends the answer as encoding/json would write it, without
// reflection, when every string in it is plain: printable ASCII that JSON
// does not escape, as our tokens and ids always are. ok is false otherwise,
// and the caller falls back to encoding/json.
func (r *refreshResponse) appendJSON(b []byte) (out []byte, ok bool) {
	if !plainJSON(r.AccessToken) || !plainJSON(r.TokenType) || !plainJSON(r.RefreshToken) || !plainJSON(r.SessionID) {
		return b, false
	}
	b = append(b, `{"access_token":"`...)
	b = append(b, r.AccessToken...)
	b = append(b, `","token_type":"`...)
	b = append(b, r.TokenType...)
	b = append(b, `","expires_in":`...)
	b = strconv.AppendInt(b, int64(r.ExpiresIn), 10)
	if r.RefreshToken != "" {
		b = append(b, `,"refresh_token":"`...)
		b = append(b, r.RefreshToken...)
		b = append(b, '"')
	}
	b = append(b, `,"refresh_expires_in":`...)
	b = strconv.AppendInt(b, int64(r.RefreshExpiresIn), 10)
	b = append(b, `,"session_id":"`...)
	b = append(b, r.SessionID...)
	b = append(b, `"}`...)
	return b, true
}

// plainJSON reports whether encoding/json writes s between quotes as is:
// printable ASCII other than ", \, <, > and &.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
