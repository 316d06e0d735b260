// Package httpapi is the HTTP surface of the session service: one handler
// per endpoint of SPEC.md, shared by the Vercel functions under api/ (each a
// one-line adapter) and by cmd/sessiond, which mounts those very functions.
//
// # Model
//
// An App holds what a warm instance reuses between requests: the parsed
// configuration, the KV client and the session Manager. They are built
// lazily on the first request (Vercel starts functions on demand) and kept;
// a build that fails because the store did not answer is retried on the next
// request, while a bad configuration is remembered, logged once naming the
// variable, and answered with 503 on every request instead of crashing.
//
// Every request goes through the same steps (App.handle): security headers,
// CORS (preflights answered here), the method check (405 with Allow), the
// lazy build, a time budget (Vercel's request context has no deadline), the
// client's identity (IP and user agent, from headers only the platform can
// set), then the endpoint's body. Errors of every layer are mapped to SPEC's
// JSON error shape in one place (errors.go); bad input never reaches the 500
// path, and no error text ever carries a token or a secret.
//
// # Request bodies
//
// At most 64 KiB (413), application/json everywhere and
// application/x-www-form-urlencoded too on refresh, revoke and introspect
// (415 otherwise). JSON is strict about types (400 naming the field) but
// tolerant of unknown fields; trailing data, invalid UTF-8 and nesting deeper
// than 32 levels are refused (400). A form may not repeat a parameter
// (RFC 6749 §3.1).
//
// # Credentials
//
// Admin, introspection and cron keys are compared in constant time after
// hashing both sides to the same length, and a wrong key counts toward the
// caller IP's failure lockout. Access tokens are checked by
// session.Manager.Authenticate (signature, times, session and revocation).
// In cookie mode (SESSION_COOKIE_MODE=1) the refresh token travels only in an
// HttpOnly __Host- cookie, and a request that relies on that cookie must come
// from an allowed Origin and carry X-Sessiond-CSRF: 1 (cookie.go).
package httpapi
