package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// floorTestRedis returns a client and a fresh key holding "1": real Redis
// at $REDIS_URL when it is set (the URL as given: the key is random and
// deleted afterwards), otherwise an in-process miniredis.
func floorTestRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	var opt *redis.Options
	if raw := os.Getenv("REDIS_URL"); raw != "" {
		o, err := redis.ParseURL(raw)
		if err != nil {
			t.Fatalf("REDIS_URL: %v", err)
		}
		opt = o
	} else {
		t.Log("REDIS_URL not set: miniredis stands in for Redis")
		opt = &redis.Options{Addr: miniredis.RunT(t).Addr()}
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	key := "loadgen:floor:test:" + randToken("")
	ctx := context.Background()
	if err := rdb.Set(ctx, key, "1", time.Minute).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	t.Cleanup(func() { rdb.Del(context.Background(), key) })
	return rdb, key
}

func floorRequest(h http.Handler, method, path, auth, body string) (int, string) {
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctForm)
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	return rr.Code, strings.TrimSpace(rr.Body.String())
}

func TestFloorHandler(t *testing.T) {
	t.Parallel()
	rdb, key := floorTestRedis(t)
	h := floorHandler(rdb, key, testIntro)
	good := "Bearer " + testIntro
	tok, err := floorToken()
	if err != nil {
		t.Fatal(err)
	}
	form := "token=" + url.QueryEscape(tok)
	for _, c := range []struct {
		name, method, path, auth, body string
		status                         int
		answer                         string
	}{
		{"health", "GET", "/api/health", "", "", 200, `{"status":"ok"}`},
		{"active", "POST", "/api/introspect", good, form, 200, `{"active":true}`},
		{"no bearer", "POST", "/api/introspect", "", form, 401, `{"error":"invalid_client"}`},
		{"wrong bearer", "POST", "/api/introspect", "Bearer " + testAdmin, form, 401, `{"error":"invalid_client"}`},
		{"bearer prefix only", "POST", "/api/introspect", "Bearer " + testIntro[:5], form, 401, `{"error":"invalid_client"}`},
		{"no token", "POST", "/api/introspect", good, "", 400, `{"error":"invalid_request"}`},
		{"empty token", "POST", "/api/introspect", good, "token=", 400, `{"error":"invalid_request"}`},
		{"GET introspect", "GET", "/api/introspect", good, "", 405, ""},
		{"POST health", "POST", "/api/health", "", "", 405, ""},
		{"other path", "GET", "/api/sessions", good, "", 404, ""},
		{"root", "POST", "/", good, form, 404, ""},
	} {
		status, body := floorRequest(h, c.method, c.path, c.auth, c.body)
		if status != c.status || (c.answer != "" && body != c.answer) {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, body, c.status, c.answer)
		}
	}

	// The answer follows the key: anything but "1", or no key, is inactive.
	ctx := context.Background()
	if err := rdb.Set(ctx, key, "0", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if status, body := floorRequest(h, "POST", "/api/introspect", good, form); status != 200 || body != `{"active":false}` {
		t.Errorf("key holds 0: %d %s", status, body)
	}
	if err := rdb.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	if status, body := floorRequest(h, "POST", "/api/introspect", good, form); status != 200 || body != `{"active":false}` {
		t.Errorf("no key: %d %s", status, body)
	}
}

// TestFloorHandlerRedisDown: with Redis unreachable (a closed loopback
// port) introspection answers 503, health still 200.
func TestFloorHandlerRedisDown(t *testing.T) {
	t.Parallel()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	h := floorHandler(rdb, "loadgen:floor:none", testIntro)
	if status, body := floorRequest(h, "POST", "/api/introspect", "Bearer "+testIntro, "token=x"); status != 503 {
		t.Errorf("redis down: %d %s, want 503", status, body)
	}
	if status, _ := floorRequest(h, "GET", "/api/health", "", ""); status != 200 {
		t.Errorf("health: %d", status)
	}
}

func TestFloorRefuses(t *testing.T) {
	t.Parallel()
	env := func(k string) string { return map[string]string{"SESSION_INTROSPECT_KEY": testIntro}[k] }
	for _, c := range []struct {
		args     []string
		env      func(string) string
		contains string
	}{
		{[]string{"-addr", "0.0.0.0:0"}, env, "loopback"},
		{[]string{"-addr", ":0"}, env, "loopback"},
		{[]string{"-addr", "10.0.0.1:80"}, env, "loopback"},
		{[]string{"-addr", "127.0.0.1:0", "-redis", "redis://10.0.0.1:6379/9"}, env, "loopback"},
		{[]string{"-addr", "127.0.0.1:0", "-redis", "redis://example.com:6379/9"}, env, "loopback"},
		{[]string{"-addr", "127.0.0.1:0", "-redis", "redis://127.0.0.1:6379/0"}, env, "database 0"},
		{[]string{"-addr", "127.0.0.1:0", "-redis", "redis://127.0.0.1:6379"}, env, "database 0"},
		{[]string{"-addr", "127.0.0.1:0", "-redis", "rediss://127.0.0.1:6379/9"}, env, "scheme"},
		{[]string{"-addr", "127.0.0.1:0", "-redis", "unix:///tmp/redis.sock?db=9"}, env, "scheme"},
		{[]string{"-addr", "127.0.0.1:0", "-d", "11m"}, env, "-d"},
		{[]string{"-addr", "127.0.0.1:0", "-d", "0s"}, env, "-d"},
		{[]string{"-addr", "127.0.0.1:0", "extra"}, env, "unexpected"},
		{[]string{"-addr", "127.0.0.1:0"}, func(string) string { return "" }, "SESSION_INTROSPECT_KEY"},
	} {
		err := cmdFloor(context.Background(), c.args, &bytes.Buffer{}, c.env)
		if err == nil || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%v: err = %v, want it to mention %q", c.args, err, c.contains)
		}
		if err != nil && strings.Contains(c.contains, "loopback") && !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%v: err = %v, want ErrNotLoopback", c.args, err)
		}
	}
}

// startFloor runs `loadgen floor` on a free port against a miniredis
// (database 9: the command refuses 0, which is the database REDIS_URL
// names in our tests, so the command test never uses real Redis) and
// returns its base URL, the miniredis, and a channel with its result.
func startFloor(t *testing.T, ctx context.Context, extra ...string) (string, *miniredis.Miniredis, <-chan error) {
	t.Helper()
	mr := miniredis.RunT(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{"-addr", addr, "-redis", "redis://" + mr.Addr() + "/9"}, extra...)
	done := make(chan error, 1)
	var logs bytes.Buffer // written by the command only; read after done
	go func() {
		done <- cmdFloor(ctx, args, &logs, func(k string) string {
			return map[string]string{"SESSION_INTROSPECT_KEY": testIntro}[k]
		})
	}()
	base := "http://" + addr
	if err := dispatch(ctx, []string{"wait", "-timeout", "10s", base + "/api/health"}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		select {
		case e := <-done:
			t.Fatalf("floor exited: %v\n%s", e, logs.String())
		default:
		}
		t.Fatal(err)
	}
	return base, mr, done
}

func floorKeys(t *testing.T, mr *miniredis.Miniredis) []string {
	t.Helper()
	return mr.DB(9).Keys()
}

// TestFloorCommandAndScenario: the floor server sets one key with an
// expiry, answers the floor-introspect scenario with no error, stops on
// cancellation and deletes its key.
func TestFloorCommandAndScenario(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, mr, done := startFloor(t, ctx, "-d", "1m")
	keys := floorKeys(t, mr)
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "loadgen:floor:") {
		t.Fatalf("keys in db 9: %v", keys)
	}
	if ttl := mr.DB(9).TTL(keys[0]); ttl <= time.Minute || ttl > 2*time.Minute {
		t.Fatalf("TTL %v, want the lifetime plus a minute", ttl)
	}
	f := &runFlags{scenario: floorScenario, target: base, form: false} // form is forced anyway
	sc, target, err := buildScenario(f, newHTTPClient(4, 5*time.Second), func(k string) string {
		return map[string]string{"SESSION_INTROSPECT_KEY": testIntro}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if target != base {
		t.Fatalf("target %q", target)
	}
	if tok := sc.(*floorIntrospectScenario).token; len(tok) != 300 || url.QueryEscape(tok) != tok {
		t.Fatalf("token of %d characters, URL-safe: %v", len(tok), url.QueryEscape(tok) == tok)
	}
	for _, c := range []int{1, 3} {
		if err := sc.Prepare(ctx, c); err != nil {
			t.Fatal(err)
		}
		st, err := run(ctx, sc, shortRun(c))
		if err != nil {
			t.Fatal(err)
		}
		if st.Total.ok == 0 || st.Total.errorCount() != 0 || st.Ops["introspect"] == nil {
			t.Fatalf("c=%d: ok=%d errors=%v ops=%v", c, st.Total.ok, st.Total.errors, st.opNames())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("floor did not stop on cancellation")
	}
	if keys := floorKeys(t, mr); len(keys) != 0 {
		t.Fatalf("keys left: %v", keys)
	}
}

func TestFloorStopsAfterLifetime(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, mr, done := startFloor(t, context.Background(), "-d", "300ms")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("floor did not stop after -d")
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("stopped after %v", d)
	}
	if keys := floorKeys(t, mr); len(keys) != 0 {
		t.Fatalf("keys left: %v", keys)
	}
}

func TestFloorScenarioNeedsKeyAndLoopback(t *testing.T) {
	t.Parallel()
	client := newHTTPClient(1, time.Second)
	_, _, err := buildScenario(&runFlags{scenario: floorScenario, target: "http://127.0.0.1:1"}, client,
		func(k string) string { return map[string]string{"SESSION_ADMIN_KEY": testAdmin}[k] })
	if err == nil || !strings.Contains(err.Error(), "SESSION_INTROSPECT_KEY") {
		t.Fatalf("without the introspect key: %v", err)
	}
	_, _, err = buildScenario(&runFlags{scenario: floorScenario, target: "http://192.0.2.1:80"}, client,
		func(string) string { return testIntro })
	if !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("off loopback: %v", err)
	}
	for sc, want := range map[string]string{floorScenario: "floor", "hydra-token": "hydra", "introspect": "sessiond", "mixed": "sessiond"} {
		if got := defaultLabel(sc); got != want {
			t.Errorf("defaultLabel(%q) = %q, want %q", sc, got, want)
		}
	}
}

func levelAt(conc int, okRPS, p99 float64) Level {
	return Level{Concurrency: conc, OKRPS: okRPS, RPS: okRPS, Latency: Latency{P99: p99}, Stopped: "duration"}
}

func testReport(label, scenario string, levels ...Level) *Report {
	return &Report{Tool: toolName, Version: 1, Label: label, Scenario: scenario, Levels: levels}
}

// TestFloorSummary: the floor line and its JSON, with and without Hydra.
func TestFloorSummary(t *testing.T) {
	t.Parallel()
	floor := testReport("floor", floorScenario, levelAt(1, 5000, 0.3), levelAt(16, 15000, 2))
	redisIntro := testReport("redis", "introspect", levelAt(16, 10500, 3))
	embIntro := testReport("embedded", "introspect", levelAt(16, 12000, 2.5))
	hydra := testReport("hydra", "hydra-introspect", levelAt(16, 2250, 20))
	refresh := testReport("redis", "refresh", levelAt(16, 4000, 5))

	lines := floorLines([]*Report{embIntro, floor, redisIntro, hydra, refresh}, 16)
	if len(lines) != 2 {
		t.Fatalf("lines %+v", lines)
	}
	l := lines[1]
	if l.Label != "redis" || l.FloorLabel != "floor" || l.FloorOKRPS != 15000 || l.OursOfFloor != 0.7 ||
		l.HydraTargetOKRPS != 18000 || l.HydraTargetOfFloor != 1.2 || l.HydraTargetRatio != 8 || l.FloorP99ms != 2 {
		t.Fatalf("redis line %+v", l)
	}
	if lines[0].Label != "embedded" || lines[0].OursOfFloor != 0.8 {
		t.Fatalf("embedded line %+v", lines[0])
	}
	if got := floorLines([]*Report{floor, redisIntro}, 64); got != nil {
		t.Fatalf("no floor level at 64: %+v", got)
	}
	if got := floorLines([]*Report{redisIntro, hydra}, 16); got != nil {
		t.Fatalf("no floor report: %+v", got)
	}
	alone := floorLines([]*Report{floor}, 16)
	if len(alone) != 1 || alone[0].Label != "" || alone[0].HydraTargetOKRPS != 0 {
		t.Fatalf("floor alone: %+v", alone)
	}

	// Through the command: reports on disk, the printed line, the JSON.
	dir := t.TempDir()
	var files []string
	for i, r := range []*Report{floor, redisIntro, hydra} {
		p := filepath.Join(dir, fmt.Sprintf("r%d.json", i))
		if err := writeJSON(p, r); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	sum := filepath.Join(dir, "summary.json")
	var out bytes.Buffer
	if err := dispatch(context.Background(), append([]string{"summary", "-json", sum}, files...), &out, &out); err != nil {
		t.Fatal(err)
	}
	want := "  floor     bare net/http + one Redis GET: 15000/s; redis introspect = 0.70 of it; 8x hydra-introspect = 18000/s = 1.20x the floor\n"
	text := out.String()
	if !strings.Contains(text, want) {
		t.Fatalf("summary lacks\n%s\ngot:\n%s", want, text)
	}
	if strings.Index(text, want) < strings.Index(text, "side by side") {
		t.Fatalf("the floor line comes before the side-by-side lines:\n%s", text)
	}
	b, err := os.ReadFile(sum)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Floor []map[string]any `json:"floor"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Floor) != 1 || s.Floor[0]["floor_ok_rps"] != 15000.0 || s.Floor[0]["ours_of_floor"] != 0.7 ||
		s.Floor[0]["hydra_target_ok_rps"] != 18000.0 || s.Floor[0]["hydra_target_of_floor"] != 1.2 || s.Floor[0]["label"] != "redis" {
		t.Fatalf("summary JSON floor: %v", s.Floor)
	}

	// Without Hydra: no Hydra part, and a heading since no side-by-side precedes.
	out.Reset()
	if err := dispatch(context.Background(), []string{"summary", files[0], files[1]}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "against the floor at concurrency 16") ||
		!strings.Contains(out.String(), "  floor     bare net/http + one Redis GET: 15000/s; redis introspect = 0.70 of it\n") {
		t.Fatalf("summary without Hydra:\n%s", out.String())
	}
}
