package httpapi

import (
	"net/http"
	"slices"
	"strings"
)

// allowMethod reports whether r's method is one of methods; if not, it
// answers 405 with an Allow header listing them (RFC 9110 §15.5.6). GET
// implies HEAD, and OPTIONS is always allowed (CORS preflights and plain
// OPTIONS requests are answered before this check).
func allowMethod(w http.ResponseWriter, r *http.Request, methods []string) bool {
	allowed := withOptions(methods)
	if slices.Contains(methods, http.MethodGet) && !slices.Contains(allowed, http.MethodHead) {
		allowed = append(allowed, http.MethodHead)
	}
	if slices.Contains(allowed, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
		Description: "use " + strings.Join(methods, " or ")})
	return false
}

// answerOptions answers a plain (non-preflight) OPTIONS request: 204 with
// Allow.
func answerOptions(w http.ResponseWriter, methods []string) {
	allowed := withOptions(methods)
	if slices.Contains(methods, http.MethodGet) {
		allowed = append(allowed, http.MethodHead)
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	w.WriteHeader(http.StatusNoContent)
}
