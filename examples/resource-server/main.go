// Command resource-server is an example API protected by sessiond's access
// tokens, showing both ways to check them:
//
//   - offline, on every request: the JWT's EdDSA signature against sessiond's
//     JWKS (fetched once, cached), its typ (at+jwt), iss, aud and times. No
//     call to sessiond, so it is fast, but a revoked token stays usable until
//     it expires (15 minutes by default);
//   - introspection (RFC 7662) for sensitive routes: one call to sessiond,
//     which sees a revocation, a logout or an ended session at once. The end
//     user's IP and User-Agent go along, so sessiond can judge the request
//     for hijacking.
//
// Routes: GET /profile (offline check), POST /transfer (offline check +
// introspection).
//
//	SESSIOND_URL=http://127.0.0.1:3000 SESSION_INTROSPECT_KEY=... go run ./examples/resource-server
//
// Environment: SESSIOND_URL (default http://127.0.0.1:3000), SESSIOND_ISSUER
// (the iss to expect; default SESSIOND_URL's default issuer
// http://localhost:3000), SESSIOND_AUDIENCE (default "sessions"),
// SESSION_INTROSPECT_KEY (required for /transfer), ADDR (default
// 127.0.0.1:4001).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claims are the access token's claims (RFC 9068).
type claims struct {
	SessionID string `json:"sid"`
	Scope     string `json:"scope,omitempty"`
	jwt.RegisteredClaims
}

type ctxKey struct{}

// guard verifies access tokens.
type guard struct {
	keys          *keySet
	issuer        string
	audience      string
	introspectURL string
	introspectKey string
	http          *http.Client
}

func unauthorized(w http.ResponseWriter, desc string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="example", error="invalid_token"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": desc})
}

// verify checks a token offline and returns its claims.
func (g *guard) verify(ctx context.Context, raw string) (*claims, error) {
	var c claims
	tok, err := jwt.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		// RFC 9068 §4: the typ header must be at+jwt, so an ID token or any
		// other JWT signed by the same key is not taken for an access token.
		if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
			return nil, errors.New("not an access token")
		}
		kid, _ := t.Header["kid"].(string)
		return g.keys.key(ctx, kid)
	},
		jwt.WithValidMethods([]string{"EdDSA"}), // never "none", never HS256 with the public key
		jwt.WithIssuer(g.issuer), jwt.WithAudience(g.audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(30*time.Second))
	if err != nil || !tok.Valid || c.Subject == "" || c.SessionID == "" {
		return nil, errors.New("invalid token")
	}
	return &c, nil
}

// introspect asks sessiond whether the token is still active right now.
func (g *guard) introspect(ctx context.Context, raw string, r *http.Request) (bool, error) {
	form := url.Values{"token": {raw}, "end_user_agent": {r.UserAgent()}}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		form.Set("end_user_ip", host) // behind a proxy: the client IP it reports
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.introspectURL, strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+g.introspectKey)
	res, err := g.http.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false, fmt.Errorf("introspection: HTTP %d", res.StatusCode)
	}
	var out struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&out); err != nil {
		return false, err
	}
	return out.Active, nil
}

// require is the middleware: the offline check always, introspection too
// when sensitive. It fails closed: if sessiond cannot answer an
// introspection, the sensitive request is refused (503), not let through.
func (g *guard) require(sensitive bool, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="example"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "send a Bearer access token"})
			return
		}
		c, err := g.verify(r.Context(), raw)
		if err != nil {
			unauthorized(w, "invalid or expired access token")
			return
		}
		if sensitive {
			active, err := g.introspect(r.Context(), raw, r)
			if err != nil {
				log.Printf("resource-server: introspection failed: %v", err)
				w.Header().Set("Retry-After", "2")
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable", "error_description": "cannot confirm the session right now"})
				return
			}
			if !active {
				unauthorized(w, "the session has ended")
				return
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, c)))
	}
}

func profile(w http.ResponseWriter, r *http.Request) {
	c := r.Context().Value(ctxKey{}).(*claims)
	writeJSON(w, http.StatusOK, map[string]string{"user_id": c.Subject, "session_id": c.SessionID, "checked": "offline"})
}

func transfer(w http.ResponseWriter, r *http.Request) {
	c := r.Context().Value(ctxKey{}).(*claims)
	writeJSON(w, http.StatusOK, map[string]string{"user_id": c.Subject, "status": "transferred", "checked": "introspection"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func env(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

func main() {
	base := strings.TrimSuffix(env("SESSIOND_URL", "http://127.0.0.1:3000"), "/")
	g := &guard{
		keys:          newKeySet(base + "/api/jwks"),
		issuer:        env("SESSIOND_ISSUER", "http://localhost:3000"),
		audience:      env("SESSIOND_AUDIENCE", "sessions"),
		introspectURL: base + "/api/introspect",
		introspectKey: env("SESSION_INTROSPECT_KEY", ""),
		http:          &http.Client{Timeout: 5 * time.Second},
	}
	if g.introspectKey == "" {
		log.Print("resource-server: SESSION_INTROSPECT_KEY is not set: sensitive routes will answer 503")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /profile", g.require(false, profile))
	mux.HandleFunc("POST /transfer", g.require(true, transfer))

	ln, err := net.Listen("tcp", env("ADDR", "127.0.0.1:4001"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("resource-server listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
