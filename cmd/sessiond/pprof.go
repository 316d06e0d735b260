package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"
)

// startPprof serves net/http/pprof on addr (SESSIOND_PPROF, e.g.
// 127.0.0.1:6060) until ctx is done, for profiling under load
// (docs/performance.md). It is off unless the variable is set, and refuses
// any address that is not loopback: profiles show code paths and timings,
// and the endpoints cost CPU on demand. The handlers live on their own mux,
// never on the API's.
func startPprof(ctx context.Context, addr string, log *slog.Logger) error {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("SESSIOND_PPROF: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("SESSIOND_PPROF must be a loopback address (127.0.0.1:6060), not %q", host)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("SESSIOND_PPROF: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Info("sessiond: pprof on http://" + ln.Addr().String() + "/debug/pprof/ (SESSIOND_PPROF)")
	return nil
}
