package api

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// Introspect is the Vercel function for /api/introspect: token introspection for resource servers (RFC 7662).
func Introspect(w http.ResponseWriter, r *http.Request) {
	httpapi.Introspect(w, r)
}
