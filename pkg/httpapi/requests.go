package httpapi

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/sessionkit/sessiond/pkg/session"
)

// The request decoders, one per body shape. Each takes the body as readBody
// returned it and yields a typed request or a 400 that says what is wrong.
// They do no I/O, so they are fuzzed directly (fuzz_test.go).

// Field limits: generous for real tokens, small enough that no field can
// carry the whole 64 KiB body into a store key or an audit line.
const (
	maxTokenLen    = 4096 // access, refresh, upstream and ID tokens
	maxCodeLen     = 2048 // authorization code, code verifier
	maxURILen      = 2048
	maxIDLen       = 255 // session and user ids
	maxSessionIDs  = 100 // admin revoke of many sessions at once
	maxExpiresIn   = 10 * 365 * 24 * 3600
	hintAccess     = "access_token"
	hintRefresh    = "refresh_token"
	grantRefresh   = "refresh_token"
	stateActiveStr = "active"
)

// upstreamBody is the "upstream" object of an admin create.
type upstreamBody struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    *int64 `json:"expires_in"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
}

// createRequest is the body of POST /api/sessions, both shapes.
type createRequest struct {
	UserID       *string           `json:"user_id"`
	Upstream     *upstreamBody     `json:"upstream"`
	Device       json.RawMessage   `json:"device"`
	Metadata     map[string]string `json:"metadata"`
	Code         *string           `json:"code"`
	CodeVerifier string            `json:"code_verifier"`
	RedirectURI  string            `json:"redirect_uri"`
	IDToken      *string           `json:"id_token"`

	device *session.Device
}

func parseCreate(kind bodyKind, body []byte) (*createRequest, error) {
	var req createRequest
	if kind == bodyJSON {
		if err := decodeJSON(body, &req); err != nil {
			return nil, err
		}
	}
	dev, err := decodeDevice(req.Device)
	if err != nil {
		return nil, err
	}
	req.device = dev
	if req.Code != nil && req.IDToken != nil {
		return nil, badRequest("send either code or id_token, not both")
	}
	if req.Code != nil {
		switch {
		case *req.Code == "" || len(*req.Code) > maxCodeLen:
			return nil, badRequest("code must be 1 to %d bytes", maxCodeLen)
		case req.CodeVerifier == "":
			return nil, badRequest("code_verifier is required with code (PKCE, RFC 7636)")
		case !validVerifier(req.CodeVerifier):
			return nil, badRequest("code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)")
		case req.RedirectURI == "" || len(req.RedirectURI) > maxURILen:
			return nil, badRequest("redirect_uri is required with code")
		}
	}
	if req.IDToken != nil && (*req.IDToken == "" || len(*req.IDToken) > maxTokenLen) {
		return nil, badRequest("id_token must be 1 to %d bytes", maxTokenLen)
	}
	if u := req.Upstream; u != nil {
		switch {
		case u.AccessToken == "" && u.RefreshToken == "" && u.IDToken == "":
			return nil, badRequest("upstream must hold at least one token")
		case len(u.AccessToken) > maxTokenLen || len(u.RefreshToken) > maxTokenLen || len(u.IDToken) > maxTokenLen:
			return nil, badRequest("upstream tokens must be at most %d bytes", maxTokenLen)
		case len(u.Scope) > 1024 || len(u.TokenType) > 64:
			return nil, badRequest("upstream.scope or upstream.token_type is too long")
		case u.ExpiresIn != nil && (*u.ExpiresIn < 0 || *u.ExpiresIn > maxExpiresIn):
			return nil, badRequest("upstream.expires_in must be between 0 and %d seconds", maxExpiresIn)
		}
	}
	return &req, nil
}

// validVerifier checks RFC 7636 §4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// upstreamTokens converts the admin's upstream object; expires_in counts
// from now.
func (u *upstreamBody) tokens(now time.Time) *session.UpstreamTokens {
	if u == nil {
		return nil
	}
	t := &session.UpstreamTokens{AccessToken: u.AccessToken, RefreshToken: u.RefreshToken,
		IDToken: u.IDToken, Scope: u.Scope, TokenType: u.TokenType}
	if u.ExpiresIn != nil {
		t.Expiry = now.Add(time.Duration(*u.ExpiresIn) * time.Second)
	}
	return t
}

// decodeDevice parses the optional "device" object (session.DecodeDevice
// names a mistyped field).
func decodeDevice(raw json.RawMessage) (*session.Device, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dev, err := session.DecodeDevice(raw)
	if err != nil {
		return nil, badRequest("%s", strings.TrimPrefix(err.Error(), "session: invalid "))
	}
	return dev, nil
}

// patchRequest is the body of PATCH /api/sessions.
type patchRequest struct {
	Metadata map[string]*string `json:"metadata"`
	State    *string            `json:"state"`
}

func parsePatch(kind bodyKind, body []byte) (*session.Patch, error) {
	var req patchRequest
	if kind == bodyJSON {
		if err := decodeJSON(body, &req); err != nil {
			return nil, err
		}
	}
	if req.Metadata == nil && req.State == nil {
		return nil, badRequest("send metadata to merge, or state \"active\" to resume")
	}
	p := &session.Patch{Metadata: req.Metadata}
	if req.State != nil {
		if *req.State != stateActiveStr {
			return nil, badRequest("state can only be set to \"active\" (resume a suspended session)")
		}
		p.Resume = true
	}
	return p, nil
}

// refreshRequest is the body of POST /api/refresh, form or JSON.
type refreshRequest struct {
	GrantType    *string         `json:"grant_type"`
	RefreshToken string          `json:"refresh_token"`
	Device       json.RawMessage `json:"device"`

	device *session.Device
}

// parseRefresh applies RFC 6749 §6 to a form (grant_type required) and our
// JSON shape (grant_type optional). A missing refresh_token is not decided
// here: in cookie mode the cookie may supply it.
func parseRefresh(kind bodyKind, body []byte) (*refreshRequest, error) {
	var req refreshRequest
	switch kind {
	case bodyForm:
		f, err := parseForm(body)
		if err != nil {
			return nil, err
		}
		gt, ok := f["grant_type"]
		if !ok || gt == "" {
			return nil, badRequest("grant_type is required")
		}
		req.GrantType = &gt
		req.RefreshToken = f["refresh_token"]
		if d, ok := f["device"]; ok && d != "" {
			req.Device = json.RawMessage(d)
		}
	case bodyJSON:
		if err := decodeJSON(body, &req); err != nil {
			return nil, err
		}
	}
	if req.GrantType != nil && *req.GrantType != grantRefresh {
		return nil, &Error{Status: 400, Code: CodeUnsupportedGrantType,
			Description: "only grant_type=refresh_token is supported here"}
	}
	if len(req.RefreshToken) > maxTokenLen {
		// Not a token we issued; the same answer as any other bad token.
		return nil, &Error{Status: 400, Code: CodeInvalidGrant, Description: invalidGrantText}
	}
	dev, err := decodeDevice(req.Device)
	if err != nil {
		return nil, err
	}
	req.device = dev
	return &req, nil
}

// revokeRequest is the body of POST /api/revoke: RFC 7009's token and hint,
// or the admin extension (session_ids or user_id).
type revokeRequest struct {
	Token      string    `json:"token"`
	Hint       string    `json:"token_type_hint"`
	SessionIDs *[]string `json:"session_ids"`
	UserID     *string   `json:"user_id"`
}

// admin reports whether the request uses the admin extension.
func (r *revokeRequest) admin() bool { return r.SessionIDs != nil || r.UserID != nil }

func parseRevoke(kind bodyKind, body []byte) (*revokeRequest, error) {
	var req revokeRequest
	switch kind {
	case bodyForm:
		f, err := parseForm(body)
		if err != nil {
			return nil, err
		}
		req.Token, req.Hint = f["token"], f["token_type_hint"]
	case bodyJSON:
		if err := decodeJSON(body, &req); err != nil {
			return nil, err
		}
	}
	// RFC 7009 §2.2.1 would allow unsupported_token_type; SPEC says a wrong
	// or unknown hint is ignored.
	if req.Hint != hintAccess && req.Hint != hintRefresh {
		req.Hint = ""
	}
	if req.admin() {
		if req.Token != "" {
			return nil, badRequest("send token, or session_ids / user_id, not both")
		}
		if req.SessionIDs != nil && req.UserID != nil {
			return nil, badRequest("send session_ids or user_id, not both")
		}
		if req.SessionIDs != nil {
			ids := *req.SessionIDs
			if len(ids) == 0 || len(ids) > maxSessionIDs {
				return nil, badRequest("session_ids must hold 1 to %d ids", maxSessionIDs)
			}
			for _, id := range ids {
				if id == "" || len(id) > maxIDLen {
					return nil, badRequest("session_ids entries must be 1 to %d bytes", maxIDLen)
				}
			}
		}
		if req.UserID != nil && (*req.UserID == "" || len(*req.UserID) > maxIDLen) {
			return nil, badRequest("user_id must be 1 to %d bytes", maxIDLen)
		}
	}
	return &req, nil
}

// introspectRequest is the body of POST /api/introspect. end_user_ip and
// end_user_agent are our extension: a resource server may pass the end
// user's IP and User-Agent to have the request judged for hijacking.
type introspectRequest struct {
	Token        string `json:"token"`
	Hint         string `json:"token_type_hint"`
	EndUserIP    string `json:"end_user_ip"`
	EndUserAgent string `json:"end_user_agent"`
}

func parseIntrospect(kind bodyKind, body []byte) (*introspectRequest, *session.Client, error) {
	var req introspectRequest
	switch kind {
	case bodyForm:
		f, err := parseForm(body)
		if err != nil {
			return nil, nil, err
		}
		req.Token, req.Hint = f["token"], f["token_type_hint"]
		req.EndUserIP, req.EndUserAgent = f["end_user_ip"], f["end_user_agent"]
	case bodyJSON:
		if err := decodeJSON(body, &req); err != nil {
			return nil, nil, err
		}
	}
	if req.Token == "" {
		return nil, nil, badRequest("token is required")
	}
	var end *session.Client
	if req.EndUserIP != "" || req.EndUserAgent != "" {
		end = &session.Client{UserAgent: req.EndUserAgent}
		if req.EndUserIP != "" {
			a, ok := parseIP(req.EndUserIP)
			if !ok {
				return nil, nil, badRequest("end_user_ip is not an IP address")
			}
			end.IP = a
		}
		if len(req.EndUserAgent) > 1024 {
			return nil, nil, badRequest("end_user_agent is longer than 1024 bytes")
		}
	}
	return &req, end, nil
}
