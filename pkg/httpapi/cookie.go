package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Cookie mode (SESSION_COOKIE_MODE=1): the refresh token travels only in an
// HttpOnly cookie, out of reach of page scripts (and so of an XSS), and is
// never written in a response body.
//
// The cookie is __Host-sessiond_rt: Secure, Path=/, no Domain, so no other
// host and no plain-HTTP page can set or overwrite it (RFC 6265bis §4.1.3.2),
// and SameSite=Strict, so a cross-site navigation or form does not carry it.
// On the plain-HTTP loopback dev server, where browsers refuse Secure
// cookies, it is sessiond_rt without Secure (logged once).
//
// SameSite alone does not stop a same-site attacker (another subdomain), so a
// request that relies on the cookie must also come from an allowed Origin
// (SESSION_ALLOWED_ORIGINS, or the service's own origin) and carry
// X-Sessiond-CSRF: 1, a header no HTML form can send and that a cross-origin
// script may only send after a CORS preflight we answer for allowed origins
// only.
const (
	CookieName    = "__Host-sessiond_rt"
	DevCookieName = "sessiond_rt"
	CSRFHeader    = "X-Sessiond-CSRF"
)

// insecureDev reports whether this request reached the local dev server over
// plain HTTP on a loopback address: the one case where the cookie drops its
// Secure flag and __Host- prefix.
func (c *call) insecureDev() bool {
	if c.st.vercel || c.r.TLS != nil {
		return false
	}
	if c.st.ip.trustProxy && strings.EqualFold(c.r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	la, ok := c.r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	ap, err := netip.ParseAddrPort(la.String())
	return err == nil && ap.Addr().IsLoopback()
}

func (c *call) cookieName() string {
	if c.insecureDev() {
		c.app.devOnce.Do(func() {
			c.app.logger().Warn("sessiond: cookie mode over plain HTTP on loopback: using cookie " + DevCookieName +
				" without Secure; deployments use " + CookieName)
		})
		return DevCookieName
	}
	return CookieName
}

// setRefreshCookie stores the refresh token in the cookie for maxAge
// seconds (the session's refresh_expires_in).
func (c *call) setRefreshCookie(tok string, maxAge int) {
	if maxAge < 1 {
		maxAge = 1
	}
	name := c.cookieName()
	http.SetCookie(c.w, &http.Cookie{Name: name, Value: tok, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: name == CookieName, SameSite: http.SameSiteStrictMode})
}

// clearRefreshCookie tells the browser to drop the cookie.
func (c *call) clearRefreshCookie() {
	name := c.cookieName()
	http.SetCookie(c.w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: name == CookieName, SameSite: http.SameSiteStrictMode})
}

// refreshCookie returns the refresh token from the cookie, if cookie mode is
// on and the request has one.
func (c *call) refreshCookie() (string, bool) {
	if !c.st.cfg.CookieMode {
		return "", false
	}
	ck, err := c.r.Cookie(c.cookieName())
	if err != nil || ck.Value == "" {
		return "", false
	}
	return ck.Value, true
}

// checkCSRF refuses a cookie-authenticated request that does not come from
// an allowed origin with the custom header (403 forbidden).
func (c *call) checkCSRF() error {
	if c.r.Header.Get(CSRFHeader) != "1" {
		return forbidden("a request authenticated by cookie must send %s: 1", CSRFHeader)
	}
	origin := c.r.Header.Get("Origin")
	if origin == "" {
		return forbidden("a request authenticated by cookie must send an Origin header")
	}
	if c.st.cors.allowed(origin) || c.sameOrigin(origin) {
		return nil
	}
	return forbidden("origin not allowed")
}

// sameOrigin reports whether origin is this service's own origin, as the
// request reached it.
func (c *call) sameOrigin(origin string) bool {
	o, ok := normalizeOrigin(origin)
	if !ok {
		return false
	}
	self, ok := normalizeOrigin(c.selfOrigin())
	return ok && o == self
}

// selfOrigin is the origin the client used to reach us. On Vercel the edge
// terminates TLS and sets X-Forwarded-Proto / X-Forwarded-Host itself; the
// local server trusts them only behind a proxy of its own
// (SESSION_TRUST_PROXY=1).
func (c *call) selfOrigin() string {
	scheme, host := "http", c.r.Host
	if c.r.TLS != nil {
		scheme = "https"
	}
	if c.st.vercel || c.st.ip.trustProxy {
		switch strings.ToLower(c.r.Header.Get("X-Forwarded-Proto")) {
		case "https":
			scheme = "https"
		case "http":
			scheme = "http"
		default:
			if c.st.vercel {
				scheme = "https"
			}
		}
		if h := c.r.Header.Get("X-Forwarded-Host"); h != "" {
			host = h
		}
	}
	return scheme + "://" + host
}
