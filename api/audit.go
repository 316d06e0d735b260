package api

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// Audit is the Vercel function for /api/audit: audit events, newest first (admin).
func Audit(w http.ResponseWriter, r *http.Request) {
	httpapi.Audit(w, r)
}
