// Command backend is an example trusted back end: it signs users in with its
// own check (here a demo password) and then asks sessiond for a session with
// the admin key, which never leaves this process. The browser gets the
// create-session JSON (tokens and session) and hands it to the client
// library's setSession.
//
//	SESSIOND_URL=http://127.0.0.1:3000 SESSION_ADMIN_KEY=... go run ./examples/backend
//
// Routes:
//
//	POST /login               {"username", "password", "device"?} -> sessiond's 201 body
//	POST /logout-everywhere   {"username", "password"}            -> {"revoked": N}
//
// Environment: SESSIOND_URL (default http://127.0.0.1:3000), SESSION_ADMIN_KEY
// (required), DEMO_PASSWORD (default "demo"), ADDR (default 127.0.0.1:4000).
package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// sessiond is a tiny client for the two admin calls this back end makes.
type sessiond struct {
	base     string
	adminKey string
	http     *http.Client
}

// call POSTs a JSON body to sessiond with the admin key and returns the
// status and body of the answer.
func (s *sessiond) call(ctx context.Context, path string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.adminKey)
	res, err := s.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, out, err
}

type credentials struct {
	Username string          `json:"username"`
	Password string          `json:"password"`
	Device   json.RawMessage `json:"device,omitempty"`
}

type app struct {
	sd       *sessiond
	password string
}

// authenticate is where a real back end checks its users (password hash,
// SSO, ...). The demo accepts any username with the demo password.
func (a *app) authenticate(w http.ResponseWriter, r *http.Request) (*credentials, bool) {
	var c credentials
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&c); err != nil || c.Username == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "send username and password"})
		return nil, false
	}
	if subtle.ConstantTimeCompare([]byte(c.Password), []byte(a.password)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "wrong username or password"})
		return nil, false
	}
	return &c, true
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	c, ok := a.authenticate(w, r)
	if !ok {
		return
	}
	body := map[string]any{"user_id": c.Username, "metadata": map[string]string{"login": "password"}}
	if len(c.Device) > 0 {
		body["device"] = c.Device
	}
	status, out, err := a.sd.call(r.Context(), "/api/sessions", body)
	a.relay(w, status, out, err)
}

func (a *app) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	c, ok := a.authenticate(w, r)
	if !ok {
		return
	}
	status, out, err := a.sd.call(r.Context(), "/api/revoke", map[string]string{"user_id": c.Username})
	a.relay(w, status, out, err)
}

// relay passes sessiond's answer on. The create answer holds tokens: it
// must not be cached anywhere on the way.
func (a *app) relay(w http.ResponseWriter, status int, body []byte, err error) {
	if err != nil {
		log.Printf("backend: sessiond unreachable: %v", err)
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "unavailable", "error_description": "session service unreachable"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
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
	adminKey := env("SESSION_ADMIN_KEY", "")
	if adminKey == "" {
		log.Fatal("backend: SESSION_ADMIN_KEY is required (the same value sessiond has)")
	}
	a := &app{
		sd:       &sessiond{base: strings.TrimSuffix(env("SESSIOND_URL", "http://127.0.0.1:3000"), "/"), adminKey: adminKey, http: &http.Client{Timeout: 10 * time.Second}},
		password: env("DEMO_PASSWORD", "demo"),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout-everywhere", a.logoutEverywhere)

	ln, err := net.Listen("tcp", env("ADDR", "127.0.0.1:4000"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("backend listening on http://%s\n", ln.Addr())
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
