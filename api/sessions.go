// Package api holds the Vercel Go functions of the service, one endpoint per
// file; the route of each is its path without .go. Every function is a
// one-line adapter over pkg/httpapi: Vercel compiles each entry file with its
// package but `vercel dev` compiles it alone, so no file here may call
// another file's code (api_test.go checks it).
package api

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// Sessions is the Vercel function for /api/sessions: create (POST), list (GET), end (DELETE) and update (PATCH) sessions.
func Sessions(w http.ResponseWriter, r *http.Request) {
	httpapi.Sessions(w, r)
}
