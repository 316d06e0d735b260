package api

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// JWKS is the Vercel function for /api/jwks: the public keys of access tokens (also /.well-known/jwks.json via vercel.json).
func JWKS(w http.ResponseWriter, r *http.Request) {
	httpapi.JWKS(w, r)
}
