package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// securityHeaders is what every answer of the API carries. no-store keeps
// tokens out of every cache (RFC 6749 §5.1 requires it on token responses;
// we do it everywhere, JWKS excepted). The API never serves a document, so
// it forbids framing and every content source. Names are in canonical
// form.
var securityHeaders = [...][2]string{
	{"Cache-Control", "no-store"},
	{"Pragma", "no-cache"},
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"X-Frame-Options", "DENY"},
	{"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
	{"Content-Type", "application/json"},
}

// setSecurityHeaders sets securityHeaders on h, replacing what was there
// (as Header.Set does). The values share one allocation; each header gets
// its own one-element slice with no spare capacity, so an Add to one of
// them copies instead of touching its neighbour.
func setSecurityHeaders(h http.Header) {
	vals := make([]string, len(securityHeaders))
	for i, kv := range securityHeaders {
		vals[i] = kv[1]
		h[kv[0]] = vals[i : i+1 : i+1]
	}
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
	h := w.Header()
	if ct := h["Content-Type"]; len(ct) != 1 || ct[0] != "application/json" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeNoContent answers 204 with no body.
func writeNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}
