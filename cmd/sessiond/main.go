// Command sessiond serves the whole session service as one local process:
// the very same handler functions as the Vercel deployment (api/), on the
// very same paths, plus the example web app and its dev-only sign-in.
//
//	go run ./cmd/sessiond
//
// With no KV variables it uses an embedded in-process store, generates its
// signing and encryption keys (and says so), and listens on 127.0.0.1:3000
// (PORT or ADDR override). See SPEC.md for every variable. Two more are
// this server's own:
//
//	SESSIOND_ACCESS_LOG  1 (default): one log line per request; 0: none
//	                     (load tests: the line costs a write per request)
//	SESSIOND_PPROF       a loopback host:port serving net/http/pprof, e.g.
//	                     127.0.0.1:6060 (off by default; docs/performance.md)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sessionkit/sessiond/pkg/httpapi"
	// The embedded store, used when no KV variable is set. Only this
	// command links it: the Vercel functions never start a store of their own.
	_ "github.com/sessionkit/sessiond/pkg/kv/embedded"
)

// DefaultAddr is where sessiond listens unless PORT or ADDR say otherwise:
// loopback only, since the dev routes create sessions without credentials.
const DefaultAddr = "127.0.0.1:3000"

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, log, nil); err != nil {
		fmt.Fprintln(os.Stderr, "sessiond:", err)
		os.Exit(1)
	}
}

// listenAddr applies ADDR (host:port) over PORT (a port on 127.0.0.1) over
// the default.
func listenAddr(getenv func(string) string) string {
	if a := strings.TrimSpace(getenv("ADDR")); a != "" {
		return a
	}
	if p := strings.TrimSpace(getenv("PORT")); p != "" {
		return net.JoinHostPort("127.0.0.1", p)
	}
	return DefaultAddr
}

// run starts the server and blocks until ctx is done, then shuts down
// gracefully. ready, when not nil, receives the bound address once the
// server accepts connections (tests).
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, log *slog.Logger, ready chan<- string) error {
	slog.SetDefault(log) // the App logs through the default logger
	app := httpapi.Default()
	if err := app.Init(ctx); err != nil {
		var ce *httpapi.ConfigError
		if errors.As(err, &ce) {
			return errors.New(ce.Err.Error())
		}
		// The store did not answer: start anyway, /api/health says 503
		// and every request retries.
		log.Warn("sessiond: the KV store does not answer yet; serving anyway", "err", err.Error())
	}
	addr := listenAddr(getenv)
	if cfg, ok := app.Config(); ok {
		addr = cfg.Addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set PORT or ADDR): %w", addr, err)
	}
	web, err := webHandler()
	if err != nil {
		return err
	}
	if err := startPprof(ctx, getenv("SESSIOND_PPROF"), log); err != nil {
		_ = ln.Close()
		return err
	}
	var handler http.Handler = newMux(app, web)
	if accessLog(getenv) {
		handler = logRequests(handler, log)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	printUsage(stdout, ln.Addr().String(), getenv)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-errc:
		_ = app.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("sessiond: shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	_ = app.Close()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// printUsage tells a new user how to call the server. It shows the admin key
// only as the variable name, never its value.
func printUsage(w io.Writer, addr string, getenv func(string) string) {
	base := "http://" + addr
	admin := `"Authorization: Bearer $SESSION_ADMIN_KEY"`
	fmt.Fprintf(w, `sessiond listening on %s

Try it:
  curl -s %s/api/health
  curl -s %s/api/jwks
  curl -s -X POST %s/api/sessions -H %s \
       -H 'Content-Type: application/json' -d '{"user_id":"alice"}'
  curl -s -X POST %s/api/refresh -d grant_type=refresh_token -d refresh_token=...
  curl -s -X POST %s/api/introspect -H %s -d token=...
  curl -s -X POST %s/api/revoke -d token=...
Whole life of a session: SESSIOND_URL=%s SESSION_ADMIN_KEY=... scripts/walkthrough.sh
`, base, base, base, base, admin, base, base, admin, base, base)
	if getenv("SESSION_ADMIN_KEY") == "" {
		fmt.Fprintln(w, "Note: SESSION_ADMIN_KEY is not set, so admin calls (creating sessions from a back end) are refused.")
	}
	if getenv("VERCEL_ENV") != "production" {
		fmt.Fprintf(w, "Example app: %s/ (dev sign-in at POST /dev/sign-in)\n", base)
	}
}
