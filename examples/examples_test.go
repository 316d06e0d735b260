package examples_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/httpapi"
	_ "github.com/sessionkit/sessiond/pkg/kv/embedded" // the store of sessiondServer
)

const (
	adminKey      = "examples-admin-key-0123456789"
	introspectKey = "examples-introspect-key-0123456789"
)

// sessiondServer runs the real handlers over the embedded store, with the
// issuer set to its own URL, as a deployment would.
func sessiondServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	env := map[string]string{
		"SESSION_ADMIN_KEY": adminKey, "SESSION_INTROSPECT_KEY": introspectKey, "SESSION_ISSUER": issuer,
	}
	app := httpapi.New(func(k string) string { return env[k] })
	srv.Config.Handler = app.Handler()
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = app.Close()
	})
	return srv
}

// start builds the example program in dir and runs it with env, returning
// the base URL it prints once it listens.
func start(t *testing.T, dir string, env ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(dir))
	build := exec.Command("go", "build", "-o", bin, "./"+dir)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./%s: %v\n%s", dir, err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), append([]string{"ADDR=127.0.0.1:0"}, env...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "listening on "); ok {
				lines <- u
			}
		}
	}()
	select {
	case u := <-lines:
		return u
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not start: %s", dir, stderr.String())
	}
	return ""
}

func post(t *testing.T, u, bearer string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case nil:
	default:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, _ := http.NewRequest(http.MethodPost, u, rd)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return send(t, req, bearer)
}

func get(t *testing.T, u, bearer string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return send(t, req, bearer)
}

func send(t *testing.T, req *http.Request, bearer string) (int, map[string]any) {
	t.Helper()
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m
}

// The two examples, built and run against a real sessiond: the back end
// creates a session with the admin key, the resource server accepts its
// access token offline and with introspection, and after a revocation the
// introspected route refuses it at once while the offline one still
// accepts it (until it expires): the trade-off docs/integration.md explains.
func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs")
	}
	sd := sessiondServer(t)
	backend := start(t, "backend", "SESSIOND_URL="+sd.URL, "SESSION_ADMIN_KEY="+adminKey, "DEMO_PASSWORD=s3cret")
	rs := start(t, "resource-server", "SESSIOND_URL="+sd.URL, "SESSIOND_ISSUER="+sd.URL,
		"SESSION_INTROSPECT_KEY="+introspectKey)

	if code, _ := post(t, backend+"/login", "", map[string]string{"username": "alice", "password": "wrong"}); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	code, created := post(t, backend+"/login", "", map[string]any{"username": "alice", "password": "s3cret",
		"device": map[string]any{"os": "Linux", "browser": "Firefox"}})
	if code != 201 || created["user_id"] != "alice" {
		t.Fatalf("login: %d %v", code, created)
	}
	access, _ := created["access_token"].(string)
	refresh, _ := created["refresh_token"].(string)

	if code, m := get(t, rs+"/profile", access); code != 200 || m["user_id"] != "alice" {
		t.Fatalf("profile: %d %v", code, m)
	}
	if code, m := post(t, rs+"/transfer", access, nil); code != 200 || m["checked"] != "introspection" {
		t.Fatalf("transfer: %d %v", code, m)
	}
	for _, bad := range []string{"", "not-a-token", access[:len(access)-4] + "AAAA", refresh} {
		if code, _ := get(t, rs+"/profile", bad); code != 401 {
			t.Fatalf("profile accepted %q: %d", bad, code)
		}
	}

	// Revoke: sensitive routes see it at once; offline checks cannot.
	if code, _ := post(t, sd.URL+"/api/revoke", "", url.Values{"token": {refresh}}); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if code, _ := post(t, rs+"/transfer", access, nil); code != 401 {
		t.Fatalf("transfer after revoke: %d, want 401", code)
	}
	if code, _ := get(t, rs+"/profile", access); code != 200 {
		t.Fatalf("offline check after revoke: %d (expected to still pass until exp)", code)
	}

	// Logout everywhere through the back end.
	for i := 0; i < 2; i++ {
		post(t, backend+"/login", "", map[string]string{"username": "bob", "password": "s3cret"})
	}
	code, m := post(t, backend+"/logout-everywhere", "", map[string]string{"username": "bob", "password": "s3cret"})
	if code != 200 || m["revoked"] != float64(2) {
		t.Fatalf("logout everywhere: %d %v", code, m)
	}
}
