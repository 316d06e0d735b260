package api

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// Revoke is the Vercel function for /api/revoke: revoke a token (RFC 7009), or sessions with the admin key.
func Revoke(w http.ResponseWriter, r *http.Request) {
	httpapi.Revoke(w, r)
}
