package httpapi

import (
	"net/http"
	"time"

	"github.com/sessionkit/sessiond/pkg/session"
)

var sessionsEndpoint = endpoint{methods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete}}

// Sessions serves /api/sessions: POST creates, GET lists, DELETE ends one,
// PATCH updates one (SPEC "Endpoints").
func (a *App) Sessions(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, sessionsEndpoint, func(c *call) error {
		switch r.Method {
		case http.MethodPost:
			return c.createSession()
		case http.MethodDelete:
			return c.endSession()
		case http.MethodPatch:
			return c.patchSession()
		}
		return c.listSessions()
	})
}

// createResponse is SPEC's 201 body, in SPEC's order.
type createResponse struct {
	SessionID        string           `json:"session_id"`
	UserID           string           `json:"user_id"`
	AccessToken      string           `json:"access_token"`
	TokenType        string           `json:"token_type"`
	ExpiresIn        int              `json:"expires_in"`
	RefreshToken     string           `json:"refresh_token,omitempty"`
	RefreshExpiresIn int              `json:"refresh_expires_in"`
	Session          *session.Session `json:"session"`
}

// createSession: the trusted back end with the admin key names the user;
// without it, the caller proves the user with an upstream authorization
// code (+PKCE) or ID token. Anything else is 401.
func (c *call) createSession() error {
	kind, body, err := readBody(c.w, c.r, false)
	if err != nil {
		return err
	}
	tok, present, err := bearer(c.r)
	if err != nil {
		return err
	}
	if present && !keyEqual(tok, c.st.cfg.AdminKey) {
		return c.keyFailure("send the admin key as a Bearer credential, or no Authorization with an upstream code or id_token")
	}
	req, err := parseCreate(kind, body)
	if err != nil {
		return err
	}
	if !present && c.st.cfg.CookieMode && (req.Code != nil || req.IDToken != nil) {
		// A browser create sets the refresh cookie: same CSRF rule as the
		// requests that read it.
		if err := c.checkCSRF(); err != nil {
			return err
		}
	}
	var iss *session.Issued
	switch {
	case present: // the admin key
		if req.UserID == nil {
			return badRequest("user_id is required")
		}
		iss, err = c.st.m.Create(c.ctx, sessionCreate(*req.UserID, req, c))
	case req.Code != nil:
		iss, err = c.st.m.CreateFromCode(c.ctx, *req.Code, req.CodeVerifier, req.RedirectURI, req.device, c.client)
	case req.IDToken != nil:
		iss, err = c.st.m.CreateFromIDToken(c.ctx, *req.IDToken, req.device, c.client)
	default:
		return unauthorized("", "send the admin key as a Bearer credential, or an upstream code or id_token")
	}
	if err != nil {
		return err
	}
	c.writeCreated(iss)
	return nil
}

// sessionCreate is the Manager's request for an admin (or dev) create.
func sessionCreate(userID string, req *createRequest, c *call) session.CreateRequest {
	return session.CreateRequest{
		UserID: userID, Upstream: req.Upstream.tokens(time.Now()), Device: req.device,
		Metadata: req.Metadata, Client: c.client,
	}
}

// writeCreated answers 201 with the new session's tokens. In cookie mode the
// refresh token goes into the cookie and not into the body.
func (c *call) writeCreated(iss *session.Issued) {
	s := iss.Session
	resp := createResponse{
		SessionID: s.ID, UserID: s.UserID, AccessToken: iss.AccessToken, TokenType: "Bearer",
		ExpiresIn: iss.ExpiresIn, RefreshToken: iss.RefreshToken, RefreshExpiresIn: iss.RefreshExpiresIn,
		Session: &s,
	}
	if c.st.cfg.CookieMode {
		c.setRefreshCookie(iss.RefreshToken, iss.RefreshExpiresIn)
		resp.RefreshToken = ""
	}
	writeJSON(c.w, http.StatusCreated, resp)
}

// listResponse is SPEC's list body; sessions is never null.
type listResponse struct {
	Sessions []session.Session `json:"sessions"`
}

func (c *call) listSessions() error {
	p, err := c.authenticate(true)
	if err != nil {
		return err
	}
	userID := c.r.URL.Query().Get("user_id")
	switch {
	case p.admin && userID == "":
		return badRequest("user_id is required with the admin key")
	case p.admin:
		if len(userID) > maxIDLen {
			return badRequest("user_id is longer than %d bytes", maxIDLen)
		}
	case userID != "" && userID != p.claims.Subject:
		// An access token lists its own user's sessions only.
		return forbidden("an access token lists its own user's sessions only")
	default:
		userID = p.claims.Subject
	}
	list, err := c.st.m.List(c.ctx, userID, p.current(), c.client)
	if err != nil {
		return err
	}
	if list == nil {
		list = []session.Session{}
	}
	writeJSON(c.w, http.StatusOK, listResponse{Sessions: list})
	return nil
}

// sessionID reads ?session_id=, required by DELETE and PATCH.
func (c *call) sessionID() (string, error) {
	q := c.r.URL.Query()
	if len(q["session_id"]) > 1 {
		return "", badRequest("session_id is repeated")
	}
	id := q.Get("session_id")
	if id == "" || len(id) > maxIDLen {
		return "", badRequest("session_id is required (?session_id=...)")
	}
	return id, nil
}

func (c *call) endSession() error {
	p, err := c.authenticate(true)
	if err != nil {
		return err
	}
	id, err := c.sessionID()
	if err != nil {
		return err
	}
	if err := c.st.m.End(c.ctx, id, p.owner(), c.client); err != nil {
		return err
	}
	writeNoContent(c.w)
	return nil
}

// sessionResponse is the PATCH body.
type sessionResponse struct {
	Session *session.Session `json:"session"`
}

func (c *call) patchSession() error {
	p, err := c.authenticate(true)
	if err != nil {
		return err
	}
	id, err := c.sessionID()
	if err != nil {
		return err
	}
	kind, body, err := readBody(c.w, c.r, false)
	if err != nil {
		return err
	}
	patch, err := parsePatch(kind, body)
	if err != nil {
		return err
	}
	s, err := c.st.m.Update(c.ctx, id, p.owner(), p.current(), *patch, c.client)
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, sessionResponse{Session: s})
	return nil
}
