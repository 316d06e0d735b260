package config

import (
	"encoding/base64"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// env reads variables through getenv, trimming surrounding white space
// (web forms and shell quoting add newlines and spaces), and collects one
// error per bad variable.
type env struct {
	getenv func(string) string
	errs   []error
}

func (e *env) get(name string) string { return strings.TrimSpace(e.getenv(name)) }

func (e *env) fail(name, format string, args ...any) {
	e.errs = append(e.errs, &VarError{Name: name, Reason: fmt.Sprintf(format, args...)})
}

// show quotes a non-secret value for an error line: %q keeps it on one
// line, and long values are cut.
func show(v string) string {
	const limit = 64
	if len(v) > limit {
		return strconv.Quote(v[:limit]) + "..."
	}
	return strconv.Quote(v)
}

// duration parses a Go duration; min is the smallest accepted value
// (1ns for "must be > 0", 0 for "may be 0").
func (e *env) duration(name string, def, min time.Duration) time.Duration {
	v := e.get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.fail(name, "%s is not a Go duration (e.g. 90s, 15m, 24h)", show(v))
		return def
	}
	if d < min {
		if min > 0 {
			e.fail(name, "%s must be greater than 0", show(v))
		} else {
			e.fail(name, "%s must not be negative", show(v))
		}
		return def
	}
	return d
}

// fraction parses a float in [0, 1].
func (e *env) fraction(name string, def float64) float64 {
	v := e.get(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		e.fail(name, "%s is not a number", show(v))
		return def
	}
	if f < 0 || f > 1 {
		e.fail(name, "%s must be between 0 and 1", show(v))
		return def
	}
	return f
}

// nonNegative parses a finite float >= 0.
func (e *env) nonNegative(name string, def float64) float64 {
	v := e.get(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		e.fail(name, "%s is not a number", show(v))
		return def
	}
	if f < 0 {
		e.fail(name, "%s must not be negative", show(v))
		return def
	}
	return f
}

// positiveInt parses a decimal integer > 0.
func (e *env) positiveInt(name string, def int) int {
	v := e.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.fail(name, "%s is not an integer", show(v))
		return def
	}
	if n <= 0 {
		e.fail(name, "%s must be greater than 0", show(v))
		return def
	}
	return n
}

// boolean accepts 0, 1, true, false (any case).
func (e *env) boolean(name string, def bool) bool {
	v := e.get(name)
	switch strings.ToLower(v) {
	case "":
		return def
	case "1", "true":
		return true
	case "0", "false":
		return false
	}
	e.fail(name, "%s is not a boolean (use 0, 1, true or false)", show(v))
	return def
}

// list splits on commas, trims each item and drops empty ones (a trailing
// comma is harmless).
func (e *env) list(name string) []string {
	var out []string
	for item := range strings.SplitSeq(e.get(name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// secret reads a bearer secret: unset is allowed (the feature is off), set
// means at least 16 bytes. The value never appears in an error.
func (e *env) secret(name string) string {
	v := e.get(name)
	if v != "" && len(v) < minSecretLen {
		e.fail(name, "shorter than %d bytes; use a long random value (e.g. openssl rand -base64 32)", minSecretLen)
		return ""
	}
	return v
}

// minSecretLen is the shortest accepted bearer secret: 16 random bytes is
// the least that makes guessing hopeless.
const minSecretLen = 16

// httpURL checks an absolute http(s) URL without query or fragment.
func httpURL(v string) (string, bool) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(v, "#") {
		return "", false
	}
	return v, true
}

// origin normalises an origin the way browsers serialise the Origin
// header (RFC 6454 §6.2): lower-case scheme and host, default port
// dropped, no path. A single trailing "/" is tolerated and removed, since it
// is the commonest slip; anything else after the host is an error.
func origin(v string) (string, error) {
	if v == "*" || v == "null" {
		return "", fmt.Errorf("%s is not allowed; list each origin, like https://app.example.com", show(v))
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%s is not an absolute origin like https://app.example.com", show(v))
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%s: scheme must be http or https", show(v))
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(v, "#") {
		return "", fmt.Errorf("%s is not an origin: drop the path, query or fragment (like https://app.example.com)", show(v))
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%s has a bad port", show(v))
		}
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

// redirectURI checks an OAuth redirect URI: absolute, no fragment (RFC 6749
// §3.1.2); http(s) ones need a host. Other schemes (RFC 8252 private-use
// schemes of native apps) are allowed.
func redirectURI(v string) bool {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Fragment != "" || strings.Contains(v, "#") {
		return false
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return false
	}
	return true
}

// decodeKey decodes base64 in any of the four common forms (standard or
// URL alphabet, padded or not).
func decodeKey(v string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b, true
		}
	}
	return nil, false
}

func isHex(v string) bool {
	for _, c := range v {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return v != ""
}

// listenAddr checks host:port with a numeric port in 0..65535.
func listenAddr(v string) bool {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
