package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

const (
	testAdminKey      = "walkthrough-admin-key-0123456789"
	testIntrospectKey = "walkthrough-introspect-key-0123456789"
)

// TestMain sets the environment of the process-wide App (httpapi.Default,
// which the api/ functions use) before anything builds it.
func TestMain(m *testing.M) {
	for k, v := range map[string]string{
		"SESSION_ADMIN_KEY":      testAdminKey,
		"SESSION_INTROSPECT_KEY": testIntrospectKey,
		"ADDR":                   "127.0.0.1:0",
	} {
		os.Setenv(k, v)
	}
	for _, k := range []string{"KV_REST_API_URL", "KV_REST_API_TOKEN", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN",
		"REDIS_URL", "KV_URL", "VERCEL", "VERCEL_ENV", "SESSION_COOKIE_MODE", "PORT"} {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The real server: starts, prints how to call it, serves the API and the
// app, logs one line per request without query strings, shuts down.
func TestRunServesAndShutsDown(t *testing.T) {
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	stdout := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, os.Getenv, stdout, log, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	base := "http://" + addr
	if !strings.Contains(stdout.String(), "curl -s "+base+"/api/health") {
		t.Fatalf("start-up text lacks the curl lines:\n%s", stdout)
	}
	if strings.Contains(stdout.String(), testAdminKey) {
		t.Fatal("the admin key was printed")
	}

	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if res, body := get("/api/health?secret=do-not-log"); res.StatusCode != 200 || !strings.Contains(body, `"kv":"ok"`) {
		t.Fatalf("health %d %s", res.StatusCode, body)
	}
	if res, body := get("/"); res.StatusCode != 200 || !strings.Contains(body, "<!doctype html>") ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("app %d %v", res.StatusCode, res.Header)
	}
	if res, _ := get("/?code=abc&state=xyz"); res.StatusCode != 200 {
		t.Fatal("the app does not load with a query string")
	}
	if res, _ := get("/session-client.js"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("client %d %v", res.StatusCode, res.Header)
	}
	for _, p := range []string{"/README.md", "/package.json", "/test/api.test.mjs", "/app/index.html", "/embed.go"} {
		if res, _ := get(p); res.StatusCode != 404 {
			t.Fatalf("%s served with %d", p, res.StatusCode)
		}
	}
	if res, body := get("/dev/config"); res.StatusCode != 200 || !strings.Contains(body, `"cookie_mode":false`) {
		t.Fatalf("dev config %d %s", res.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	l := logs.String()
	if !strings.Contains(l, "path=/api/health status=200") || !strings.Contains(l, "method=GET") {
		t.Fatalf("request not logged:\n%s", l)
	}
	if strings.Contains(l, "do-not-log") || strings.Contains(l, "code=abc") {
		t.Fatalf("a query string reached the log:\n%s", l)
	}
	if !strings.Contains(l, "transport=embedded") {
		t.Fatalf("the KV choice is not logged:\n%s", l)
	}
	if !strings.Contains(l, "SESSION_JWT_PRIVATE_KEY is not set") {
		t.Fatalf("generated keys not warned about:\n%s", l)
	}
}

// scripts/walkthrough.sh against the real handlers over the embedded store.
func TestWalkthroughScript(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	web, err := webHandler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newMux(httpapi.Default(), web))
	defer srv.Close()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "walkthrough.sh"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(env ...string) (string, error) {
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), append([]string{"SESSIOND_URL=" + srv.URL}, env...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("SESSION_ADMIN_KEY="+testAdminKey, "SESSION_INTROSPECT_KEY="+testIntrospectKey)
	if err != nil {
		t.Fatalf("walkthrough failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "walkthrough: OK (8 steps)") {
		t.Fatalf("walkthrough output:\n%s", out)
	}
	// The script must notice a wrong answer: with a wrong admin key the
	// create step gets 401 and the script fails.
	out, err = run("SESSION_ADMIN_KEY=wrong-key-wrong-key-wrong-key", "SESSION_INTROSPECT_KEY="+testIntrospectKey)
	if err == nil || !strings.Contains(out, "step 2: expected HTTP 201, got 401") {
		t.Fatalf("walkthrough did not fail on a 401: %v\n%s", err, out)
	}
}

// buildBinary builds sessiond once for the tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sessiond")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cleanEnv is the environment without any KV or session variable.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "SESSION_") || strings.HasPrefix(name, "KV_") || strings.HasPrefix(name, "UPSTASH_") ||
			strings.HasPrefix(name, "VERCEL") || name == "REDIS_URL" || name == "ADDR" || name == "PORT" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// The process: a bad configuration stops it at start with one line naming
// the variable; a store that is down does not, and /api/health says 503
// within its 2s budget.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)

	cmd := exec.Command(bin)
	cmd.Env = cleanEnv("ADDR=127.0.0.1:0", "SESSION_IDLE_TIMEOUT=soon", "SESSION_ADMIN_KEY=tooshort")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("bad configuration: exit %v, want 1", err)
	}
	last := strings.TrimSpace(stderr.String())
	if i := strings.LastIndex(last, "\n"); i >= 0 {
		last = last[i+1:]
	}
	if !strings.HasPrefix(last, "sessiond: ") || !strings.Contains(last, "SESSION_IDLE_TIMEOUT") ||
		!strings.Contains(last, "SESSION_ADMIN_KEY") || strings.Contains(stderr.String(), "tooshort") {
		t.Fatalf("start-up error line: %q", stderr.String())
	}

	// A closed port as REDIS_URL.
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cmd = exec.Command(bin)
	cmd.Env = cleanEnv("ADDR=127.0.0.1:0", "REDIS_URL=redis://"+closed+"/0")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "sessiond listening on "); ok {
				addr <- a
			}
		}
	}()
	var base string
	select {
	case base = <-addr:
	case <-time.After(20 * time.Second):
		t.Fatal("sessiond did not start with the store down")
	}
	start := time.Now()
	res, err := http.Get(base + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), `"kv":"unavailable"`) {
		t.Fatalf("health with the store down: %d %s", res.StatusCode, body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("health took %v with the store down", d)
	}
}
