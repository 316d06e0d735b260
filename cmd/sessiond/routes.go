package main

import (
	"net/http"

	"github.com/sessionkit/sessiond/api"
	"github.com/sessionkit/sessiond/api/cron"
	"github.com/sessionkit/sessiond/api/security"
	"github.com/sessionkit/sessiond/pkg/httpapi"
)

// apiRoutes mounts the Vercel functions themselves, each on the path Vercel
// gives it (its file's path without .go). routes_test.go walks api/ and
// fails if a file is missing here or mounted elsewhere, so the local server
// and the deployment can never drift.
var apiRoutes = []struct {
	Path    string
	Handler func(http.ResponseWriter, *http.Request)
}{
	{"/api/sessions", api.Sessions},
	{"/api/refresh", api.Refresh},
	{"/api/revoke", api.Revoke},
	{"/api/introspect", api.Introspect},
	{"/api/jwks", api.JWKS},
	{"/api/health", api.Health},
	{"/api/audit", api.Audit},
	{"/api/security/summary", security.Summary},
	{"/api/cron/cleanup", cron.Cleanup},
	// vercel.json's rewrite, served directly.
	{"/.well-known/jwks.json", api.JWKS},
}

// newMux builds the local server's routes: the api/ functions, the dev-only
// routes of the example app, and the app itself (web, nil when absent).
func newMux(app *httpapi.App, web http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range apiRoutes {
		mux.HandleFunc(rt.Path, rt.Handler)
	}
	// Never under api/: these exist only in the local server, and answer
	// 404 when VERCEL_ENV=production.
	mux.HandleFunc("/dev/sign-in", app.DevSignIn)
	mux.HandleFunc("/dev/config", app.DevConfig)
	mux.HandleFunc("/api/", httpapi.NotFound)
	mux.HandleFunc("/dev/", httpapi.NotFound)
	if web != nil {
		mux.Handle("/", web)
	} else {
		mux.HandleFunc("/", httpapi.NotFound)
	}
	return mux
}
