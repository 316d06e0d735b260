package httpapi

import (
	"net/http"
)

var jwksEndpoint = endpoint{methods: []string{http.MethodGet}}

// JWKS serves GET /api/jwks (and /.well-known/jwks.json): the public keys
// that verify access tokens, current and previous. Public and cacheable for
// five minutes, so a key rotation reaches resource servers within that time
// once the previous key is published alongside the new one.
func (a *App) JWKS(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, jwksEndpoint, func(c *call) error {
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Del("Pragma")
		writeRaw(w, http.StatusOK, c.st.m.JWKS())
		return nil
	})
}
