package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary play a server for the cold-start tests: with
// LOADGEN_TEST_CHILD set it serves on 127.0.0.1:$PORT instead of testing.
func TestMain(m *testing.M) {
	switch os.Getenv("LOADGEN_TEST_CHILD") {
	case "serve":
		time.Sleep(20 * time.Millisecond) // an init cost the measurement must see
		http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/health" {
				http.NotFound(w, r)
				return
			}
			w.Write([]byte(`{"status":"ok"}`))
		}))
		os.Exit(3)
	case "crash":
		os.Stderr.WriteString("config: SESSION_X is bad\n")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

func TestMeasureStart(t *testing.T) {
	t.Setenv("LOADGEN_TEST_CHILD", "serve")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d, status, err := measureStart(context.Background(), startTarget{Name: "self", Bin: self, Path: "/api/health"}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || d < 20*time.Millisecond || d > 10*time.Second {
		t.Fatalf("status %d after %v; the child sleeps 20ms before listening", status, d)
	}

	t.Setenv("LOADGEN_TEST_CHILD", "crash")
	_, _, err = measureStart(context.Background(), startTarget{Name: "crash", Bin: self, Path: "/"}, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited before answering") || !strings.Contains(err.Error(), "SESSION_X is bad") {
		t.Fatalf("err = %v", err)
	}
}

func TestColdstartCommand(t *testing.T) {
	t.Setenv("LOADGEN_TEST_CHILD", "serve")
	self, _ := os.Executable()
	out := filepath.Join(t.TempDir(), "cold.json")
	var stdout, stderr bytes.Buffer
	err := dispatch(context.Background(), []string{"coldstart", "-n", "3", "-json", out, "hello=" + self + "@/api/health", "other=" + self + "@/nope"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	b, _ := os.ReadFile(out)
	var rep ColdstartReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || len(rep.Results[0].Samples) != 3 || !rep.Results[0].Baseline || rep.Results[0].VsBaseline != 1 {
		t.Fatalf("results %+v", rep.Results)
	}
	if rep.Results[1].Status != http.StatusNotFound || rep.Results[0].SizeMB <= 0 {
		t.Fatalf("results %+v", rep.Results)
	}
	if !strings.Contains(stdout.String(), "vs hello") {
		t.Fatalf("table:\n%s", stdout.String())
	}
}

func TestMedianAndRank(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          []float64
		median, p90 float64
	}{
		{[]float64{5}, 5, 5},
		{[]float64{1, 3}, 2, 3},
		{[]float64{1, 2, 3}, 2, 3},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5.5, 9},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 10.5, 18},
	}
	for _, tt := range tests {
		if m := median(tt.in); m != tt.median {
			t.Errorf("median(%v) = %v, want %v", tt.in, m, tt.median)
		}
		if p := tt.in[nearestRank(len(tt.in), 0.9)]; p != tt.p90 {
			t.Errorf("p90(%v) = %v, want %v", tt.in, p, tt.p90)
		}
	}
}

func TestParseStartTarget(t *testing.T) {
	t.Parallel()
	good := map[string]startTarget{
		"hello=/tmp/h":              {"hello", "/tmp/h", "/"},
		"fn=/tmp/f@/api/health?x=1": {"fn", "/tmp/f", "/api/health?x=1"},
	}
	for in, want := range good {
		if got, err := parseStartTarget(in); err != nil || got != want {
			t.Errorf("parseStartTarget(%q) = %+v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "x", "=bin", "name=", "n=b@api"} {
		if _, err := parseStartTarget(in); err == nil {
			t.Errorf("parseStartTarget(%q) accepted", in)
		}
	}
}

// TestHandlersGenerate lays out a small module shaped like ours, lists its
// handlers as Vercel would pick them, and builds one generated main through
// the overlay, proving the generated code compiles without touching the tree.
func TestHandlersGenerate(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod":        "module example.com/svc\n\ngo 1.22\n",
		"api/health.go": "package handler\n\nimport \"net/http\"\n\nfunc helper() {}\n\n// Health answers.\nfunc Health(w http.ResponseWriter, r *http.Request) { w.Write([]byte(\"ok\")) }\n",
		"api/index.go":  "package handler\n\nimport \"net/http\"\n\nfunc Index(w http.ResponseWriter, r *http.Request) {}\n",
		"api/util.go":   "package handler\n\nimport \"net/http\"\n\nfunc Wrap(h http.Handler) http.Handler { return h }\nfunc private(w http.ResponseWriter, r *http.Request) {}\n",
		"api/x_test.go": "package handler\n\nimport \"net/http\"\n\nfunc TestLike(w http.ResponseWriter, r *http.Request) {}\n",
		"api/cron/cleanup.go": "package cron\n\nimport nh \"net/http\"\n\ntype T struct{}\n\nfunc (T) M(w nh.ResponseWriter, r *nh.Request) {}\n\n" +
			"func Cleanup(w nh.ResponseWriter, r *nh.Request) {}\n",
	}
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gen := t.TempDir()
	var out bytes.Buffer
	if err := dispatch(context.Background(), []string{"handlers", "-root", root, "-gen", gen, "api"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	want := "api_cron_cleanup\t/api/cron/cleanup\tapi/cron/cleanup.go\tcron.Cleanup\n" +
		"api_health\t/api/health\tapi/health.go\thandler.Health\n" +
		"api\t/api\tapi/index.go\thandler.Index\n"
	if out.String() != want {
		t.Fatalf("handlers:\n%s\nwant:\n%s", out.String(), want)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.Name() == genDir {
			t.Fatal("generation wrote into the module")
		}
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not in PATH: generated main not compiled")
	}
	cmd := exec.Command("go", "build", "-overlay", filepath.Join(gen, "overlay.json"), "-o", filepath.Join(gen, "bin"), "./"+genDir+"/api_cron_cleanup")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the generated main: %v\n%s", err, b)
	}
}

func TestProbeFor(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SESSION_ADMIN_KEY": "adm", "SESSION_INTROSPECT_KEY": "int"}
	get := func(k string) string { return env[k] }
	none := func(string) string { return "" }
	tests := []struct {
		path   string
		getenv func(string) string
		want   probe
	}{
		{"/", get, probe{method: "GET"}},
		{"/api/health", get, probe{method: "GET"}},
		{"/api/introspect", get, probe{method: "POST", contentType: ctForm, body: "token=coldstart-probe-not-a-token", auth: "Bearer int"}},
		{"/api/refresh", none, probe{method: "POST", contentType: ctForm, body: "grant_type=refresh_token&refresh_token=coldstart-probe-not-a-token"}},
		{"/api/revoke", get, probe{method: "POST", contentType: ctForm, body: "token=coldstart-probe-not-a-token"}},
		{"/api/sessions", get, probe{method: "GET", auth: "Bearer adm", query: "user_id=coldstart-probe"}},
		{"/api/sessions", none, probe{method: "GET"}},
		{"/api/audit?user_id=x", get, probe{method: "GET", auth: "Bearer adm", query: "user_id=coldstart-probe&limit=1"}},
		{"/api/security/summary", get, probe{method: "GET", auth: "Bearer adm"}},
		{"/api/cron/cleanup", get, probe{method: "GET"}},
	}
	for _, tt := range tests {
		if got := probeFor(tt.path, tt.getenv); got != tt.want {
			t.Errorf("probeFor(%q) = %+v, want %+v", tt.path, got, tt.want)
		}
	}
	env["SESSION_INTROSPECT_KEY"] = ""
	if got := probeFor("/api/introspect", get); got.auth != "Bearer adm" {
		t.Errorf("introspection falls back to the admin key, got %q", got.auth)
	}
}
