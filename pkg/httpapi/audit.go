package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/sessionkit/sessiond/pkg/session"
)

var auditEndpoint = endpoint{methods: []string{http.MethodGet}}

// Audit limits: SPEC's page size bounds.
const (
	defaultAuditLimit = 50
	maxAuditLimit     = 500
	maxCursorLen      = 256
)

// Audit serves GET /api/audit (admin): audit events newest first, filtered
// by user or session, paged with before= (the previous page's next).
func (a *App) Audit(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, auditEndpoint, func(c *call) error {
		if _, err := c.requireKey("the admin key", c.st.adminKey); err != nil {
			return err
		}
		q, err := parseAuditQuery(r.URL.Query())
		if err != nil {
			return err
		}
		page, err := c.st.m.Audit(c.ctx, q)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, page)
		return nil
	})
}

// parseAuditQuery reads and bounds the query parameters.
func parseAuditQuery(v url.Values) (session.AuditQuery, error) {
	q := session.AuditQuery{Limit: defaultAuditLimit}
	for _, name := range []string{"user_id", "session_id", "limit", "before"} {
		if len(v[name]) > 1 {
			return q, badRequest("%s is repeated", name)
		}
	}
	q.UserID, q.SessionID, q.Before = v.Get("user_id"), v.Get("session_id"), v.Get("before")
	if len(q.UserID) > maxIDLen || len(q.SessionID) > maxIDLen {
		return q, badRequest("user_id and session_id are at most %d bytes", maxIDLen)
	}
	if len(q.Before) > maxCursorLen {
		return q, badRequest("before is not a cursor this service returned")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAuditLimit {
			return q, badRequest("limit must be an integer from 1 to %d", maxAuditLimit)
		}
		q.Limit = n
	}
	return q, nil
}
