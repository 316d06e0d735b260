package api

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// Health is the Vercel function for /api/health: whether the KV store answers.
func Health(w http.ResponseWriter, r *http.Request) {
	httpapi.Health(w, r)
}
