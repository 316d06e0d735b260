package api

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// Refresh is the Vercel function for /api/refresh: rotate a refresh token (RFC 6749 §6).
func Refresh(w http.ResponseWriter, r *http.Request) {
	httpapi.Refresh(w, r)
}
