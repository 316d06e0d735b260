// Package security holds the Vercel function of /api/security/summary.
package security

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// Summary is the Vercel function for /api/security/summary: security counts over a window (admin).
func Summary(w http.ResponseWriter, r *http.Request) {
	httpapi.SecuritySummary(w, r)
}
