// Package cron holds the Vercel function of the daily cron job.
package cron

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// Cleanup is the Vercel function for /api/cron/cleanup: the daily Vercel Cron job pruning old audit events and dead index entries.
func Cleanup(w http.ResponseWriter, r *http.Request) {
	httpapi.Cleanup(w, r)
}
