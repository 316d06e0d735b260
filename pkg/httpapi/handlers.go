package httpapi

import "net/http"

// The functions below are what the Vercel functions under api/ call: each
// serves one endpoint with the process-wide Default App. cmd/sessiond mounts
// the api/ functions themselves, so both run exactly this code.

// Sessions serves /api/sessions with the Default App.
func Sessions(w http.ResponseWriter, r *http.Request) { Default().Sessions(w, r) }

// Refresh serves /api/refresh with the Default App.
func Refresh(w http.ResponseWriter, r *http.Request) { Default().Refresh(w, r) }

// Revoke serves /api/revoke with the Default App.
func Revoke(w http.ResponseWriter, r *http.Request) { Default().Revoke(w, r) }

// Introspect serves /api/introspect with the Default App.
func Introspect(w http.ResponseWriter, r *http.Request) { Default().Introspect(w, r) }

// JWKS serves /api/jwks and /.well-known/jwks.json with the Default App.
func JWKS(w http.ResponseWriter, r *http.Request) { Default().JWKS(w, r) }

// Health serves /api/health with the Default App.
func Health(w http.ResponseWriter, r *http.Request) { Default().Health(w, r) }

// Audit serves /api/audit with the Default App.
func Audit(w http.ResponseWriter, r *http.Request) { Default().Audit(w, r) }

// SecuritySummary serves /api/security/summary with the Default App.
func SecuritySummary(w http.ResponseWriter, r *http.Request) { Default().SecuritySummary(w, r) }

// Cleanup serves /api/cron/cleanup with the Default App.
func Cleanup(w http.ResponseWriter, r *http.Request) { Default().Cleanup(w, r) }

// Routes lists every endpoint of an App by its path, as deployed on Vercel
// (tests and tools serve an App this way; cmd/sessiond mounts the api/
// functions instead, which a test keeps in step with this list).
func (a *App) Routes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"/api/sessions":          a.Sessions,
		"/api/refresh":           a.Refresh,
		"/api/revoke":            a.Revoke,
		"/api/introspect":        a.Introspect,
		"/api/jwks":              a.JWKS,
		"/.well-known/jwks.json": a.JWKS,
		"/api/health":            a.Health,
		"/api/audit":             a.Audit,
		"/api/security/summary":  a.SecuritySummary,
		"/api/cron/cleanup":      a.Cleanup,
	}
}

// Handler returns an http.Handler serving Routes (exact paths; anything else
// is a JSON 404).
func (a *App) Handler() http.Handler {
	routes := a.Routes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := routes[r.URL.Path]; ok {
			h(w, r)
			return
		}
		NotFound(w, r)
	})
}

// NotFound answers a path that is no endpoint, in SPEC's error shape.
func NotFound(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	writeError(w, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Description: "no such endpoint"})
}
