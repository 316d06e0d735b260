package httpapi

import (
	"net/http"
	"net/url"
	"strings"
)

// corsPolicy is the CORS policy of SESSION_ALLOWED_ORIGINS: an exact match
// on the origin (scheme, host and port), never a wildcard and never a
// reflection of whatever the caller sent.
type corsPolicy struct {
	origins map[string]bool // normalized origins
	// credentials: cookie mode, where the browser must send the refresh
	// cookie cross-origin. Only then is Access-Control-Allow-Credentials set.
	credentials bool
}

// CORS request headers a browser may send: the bearer, JSON bodies and the
// CSRF header of cookie mode.
const corsAllowHeaders = "Authorization, Content-Type, X-Sessiond-CSRF"

// corsExposeHeaders are the response headers a script may read besides the
// CORS-safelisted ones.
const corsExposeHeaders = "Retry-After, WWW-Authenticate"

func newCORSPolicy(origins []string, credentials bool) corsPolicy {
	p := corsPolicy{origins: map[string]bool{}, credentials: credentials}
	for _, o := range origins {
		if n, ok := normalizeOrigin(o); ok {
			p.origins[n] = true
		}
	}
	return p
}

// normalizeOrigin returns the ASCII serialization of an origin
// ("https://app.example.com", "http://localhost:5173"), lower-cased, without
// a trailing slash or default port. "null" and anything with a path, query,
// user info or another scheme is not an origin we can allow.
func normalizeOrigin(o string) (string, bool) {
	o = strings.TrimSpace(o)
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		(u.Path != "" && u.Path != "/") {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

// allowed reports whether origin is in the list.
func (p corsPolicy) allowed(origin string) bool {
	n, ok := normalizeOrigin(origin)
	return ok && p.origins[n]
}

// apply sets the CORS headers of a response and answers preflights. It
// returns true when the request was a preflight and has been answered.
// methods are the endpoint's methods, for Access-Control-Allow-Methods.
func (p corsPolicy) apply(w http.ResponseWriter, r *http.Request, methods []string) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && origin != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
	if origin == "" {
		return false
	}
	if !p.allowed(origin) {
		if preflight {
			// No CORS headers: the browser blocks the real request.
			writeError(w, forbidden("origin not allowed"))
			return true
		}
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if p.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if !preflight {
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", strings.Join(withOptions(methods), ", "))
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", "600")
	h.Del("Content-Type")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func withOptions(methods []string) []string {
	out := append([]string(nil), methods...)
	for _, m := range out {
		if m == http.MethodOptions {
			return out
		}
	}
	return append(out, http.MethodOptions)
}
