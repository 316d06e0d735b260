package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

func TestAccessLogSetting(t *testing.T) {
	for v, want := range map[string]bool{"": true, "1": true, "true": true, "on": true,
		"0": false, "false": false, "OFF": false, " no ": false} {
		got := accessLog(func(k string) string {
			if k == "SESSIOND_ACCESS_LOG" {
				return v
			}
			return ""
		})
		if got != want {
			t.Errorf("SESSIOND_ACCESS_LOG=%q: access log %v, want %v", v, got, want)
		}
	}
}

func TestPprofOnlyOnLoopback(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := startPprof(ctx, "", log); err != nil {
		t.Fatalf("unset: %v", err)
	}
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:6060", ":6060", "example.com:6060", "nonsense"} {
		if err := startPprof(ctx, addr, log); err == nil {
			t.Errorf("%q accepted", addr)
		}
	}
	if err := startPprof(ctx, "127.0.0.1:0", log); err != nil {
		t.Fatalf("loopback refused: %v", err)
	}
}

// The profiler answers on its own listener, never on the API's mux.
func TestPprofNotOnTheAPI(t *testing.T) {
	mux := newMux(httpapi.New(func(string) string { return "" }), nil)
	r, err := http.NewRequest("GET", "http://127.0.0.1/debug/pprof/", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, pattern := mux.Handler(r)
	if strings.HasPrefix(pattern, "/debug/") {
		t.Fatalf("pprof mounted on the API mux: %q", pattern)
	}
}
