package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// setSecurityHeaders sets what every answer of the API carries. no-store
// keeps tokens out of every cache (RFC 6749 §5.1 requires it on token
// responses; we do it everywhere, JWKS excepted). The API never serves a
// document, so it forbids framing and every content source.
func setSecurityHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Content-Type", "application/json")
}

// writeJSON writes v as the JSON body with the given status. v is always one
// of our own response types, so Marshal cannot fail on it; if it ever did,
// the answer is a plain 500 body rather than half a document.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"server_error","error_description":"internal error"}`)
	}
	writeRaw(w, status, b)
}

// writeRaw writes an already encoded JSON body, as is (no trailing
// newline: {"active":false} is exactly those bytes).
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeNoContent answers 204 with no body.
func writeNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}
