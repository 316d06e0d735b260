package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testAdmin = "admin-key-for-tests-0123456789"
	testIntro = "introspect-key-for-tests-012345"
)

func testService(base string, intro string) *service {
	return &service{base: base, adminKey: testAdmin, introspectKey: intro, form: true, device: true,
		runID: "t", client: newHTTPClient(8, 5*time.Second), seedN: 40, seedC: 4, revokePool: 30}
}

func shortRun(c int) RunConfig {
	return RunConfig{Concurrency: c, Duration: 150 * time.Millisecond, MaxSteps: 1_000_000, Warmup: 20 * time.Millisecond, Timeout: 5 * time.Second}
}

// TestScenariosAgainstContractModel drives every scenario of ours against the
// readable model of the contract and checks that each request was accepted
// and that the server saw what the generator counted.
func TestScenariosAgainstContractModel(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"introspect", "list", "refresh", "create", "revoke", "mixed"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake, srv := newFakeSessiond(t, testAdmin, testIntro)
			svc := testService(srv.URL, testIntro)
			sc, _, err := buildScenario(&runFlags{scenario: name, target: srv.URL, form: true, device: true, seed: 40, seedC: 4, revokePool: 30},
				svc.client, func(k string) string {
					return map[string]string{"SESSION_ADMIN_KEY": testAdmin, "SESSION_INTROSPECT_KEY": testIntro}[k]
				})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for _, c := range []int{1, 3} {
				if err := sc.Prepare(ctx, c); err != nil {
					t.Fatalf("prepare c=%d: %v", c, err)
				}
				cfg := shortRun(c)
				if name == "revoke" {
					cfg.Warmup = 0 // a warm-up would use up the small pool
				}
				st, err := run(ctx, sc, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if st.Total.errorCount() != 0 || st.Total.ok == 0 {
					t.Fatalf("c=%d: ok=%d errors=%v", c, st.Total.ok, st.Total.errors)
				}
				if st.Elapsed <= 0 || st.Elapsed > 5*time.Second {
					t.Fatalf("c=%d: elapsed %v", c, st.Elapsed)
				}
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			switch name {
			case "refresh":
				if fake.rotations == 0 {
					t.Fatal("server saw no rotation")
				}
			case "revoke":
				if fake.revoked != 2*30 {
					t.Fatalf("server revoked %d sessions, want the 2 pools of 30", fake.revoked)
				}
			case "mixed":
				if fake.intros == 0 || fake.rotations == 0 {
					t.Fatalf("mixed: intros=%d rotations=%d", fake.intros, fake.rotations)
				}
			}
		})
	}
}

// TestRefreshChainsNeverReuse: the model ends a session whenever a rotated
// token comes back, so any chain mix-up between workers shows up as
// invalid_grant. After many rotations every seeded session must be alive.
func TestRefreshChainsNeverReuse(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeSessiond(t, testAdmin, testIntro)
	svc := testService(srv.URL, testIntro)
	sc := &refreshScenario{svc: svc}
	ctx := context.Background()
	for _, c := range []int{4, 7, 1} { // ownership changes between levels
		if err := sc.Prepare(ctx, c); err != nil {
			t.Fatal(err)
		}
		cfg := shortRun(c)
		cfg.MaxSteps = 400
		cfg.Duration = 10 * time.Second
		st, err := run(ctx, sc, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if st.Stopped != "max_requests" {
			t.Fatalf("c=%d stopped by %q, want max_requests", c, st.Stopped)
		}
		if st.Total.errorCount() != 0 || st.Ops["reseed"] != nil {
			t.Fatalf("c=%d: errors %v, reseeds %v", c, st.Total.errors, st.Ops["reseed"] != nil)
		}
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, sl := range svc.seeded {
		if !fake.alive[fake.refresh[sl.refresh]] {
			t.Fatalf("seeded session %s is not alive with its latest token", sl.sessionID)
		}
	}
	if fake.rotations != 3*400 {
		t.Fatalf("server rotated %d times, want %d", fake.rotations, 3*400)
	}
}

// TestBrokenChainIsReseeded: a chain the server refuses is replaced.
func TestBrokenChainIsReseeded(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeSessiond(t, testAdmin, testIntro)
	svc := testService(srv.URL, testIntro)
	svc.seedN = 1
	sc := &refreshScenario{svc: svc}
	ctx := context.Background()
	if err := sc.Prepare(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	for k := range fake.alive {
		fake.alive[k] = false // the server ends every session behind our back
	}
	fake.mu.Unlock()
	cfg := shortRun(1)
	cfg.Warmup, cfg.MaxSteps, cfg.Duration = 0, 5, 10*time.Second
	st, err := run(ctx, sc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := st.Ops["refresh"]
	if r == nil || r.errors["http_400"] != 1 || r.ok != 4 || st.Ops["reseed"] == nil || st.Ops["reseed"].ok != 1 {
		t.Fatalf("want 1 refused refresh, 1 reseed, then 4 good refreshes; got %+v / %+v", r, st.Ops["reseed"])
	}
}

func TestWrongKeyIsCountedAsErrors(t *testing.T) {
	t.Parallel()
	_, srv := newFakeSessiond(t, testAdmin, testIntro)
	sc := &introspectScenario{svc: testService(srv.URL, "not-the-key")}
	ctx := context.Background()
	if err := sc.Prepare(ctx, 2); err != nil {
		t.Fatal(err)
	}
	st, err := run(ctx, sc, shortRun(2))
	if err != nil {
		t.Fatal(err)
	}
	if st.Total.ok != 0 || st.Total.errors["http_401"] == 0 || len(st.Total.errors) != 1 {
		t.Fatalf("ok=%d errors=%v, want only http_401", st.Total.ok, st.Total.errors)
	}
}

func TestInactiveTokensAreErrors(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeSessiond(t, testAdmin, testIntro)
	sc := &introspectScenario{svc: testService(srv.URL, testIntro)}
	ctx := context.Background()
	if err := sc.Prepare(ctx, 2); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	for k := range fake.alive {
		fake.alive[k] = false
	}
	fake.mu.Unlock()
	st, _ := run(ctx, sc, shortRun(2))
	if st.Total.ok != 0 || st.Total.errors["inactive"] == 0 {
		t.Fatalf("ok=%d errors=%v, want inactive", st.Total.ok, st.Total.errors)
	}
}

func TestSeedFailureNamesStatusNotSecrets(t *testing.T) {
	t.Parallel()
	_, srv := newFakeSessiond(t, "another-admin-key", testIntro)
	sc := &introspectScenario{svc: testService(srv.URL, testIntro)}
	err := sc.Prepare(context.Background(), 1)
	if err == nil || !strings.Contains(err.Error(), "status 401") || !strings.Contains(err.Error(), `"unauthorized"`) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), testAdmin) {
		t.Fatal("the error text carries the admin key")
	}
}

func TestRevokeStopsWhenPoolIsEmpty(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeSessiond(t, testAdmin, testIntro)
	svc := testService(srv.URL, testIntro)
	svc.revokePool = 10
	sc := &revokeScenario{svc: svc}
	ctx := context.Background()
	if err := sc.Prepare(ctx, 3); err != nil {
		t.Fatal(err)
	}
	cfg := shortRun(3)
	cfg.Warmup, cfg.Duration = 0, 10*time.Second
	st, err := run(ctx, sc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stopped != "exhausted" || st.Total.ok != 10 || st.Elapsed > 5*time.Second {
		t.Fatalf("stopped=%q ok=%d elapsed=%v", st.Stopped, st.Total.ok, st.Elapsed)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.revoked != 10 {
		t.Fatalf("server revoked %d", fake.revoked)
	}
}

func TestMixedProportions(t *testing.T) {
	t.Parallel()
	_, srv := newFakeSessiond(t, testAdmin, testIntro)
	sc := &mixedScenario{refreshScenario: refreshScenario{svc: testService(srv.URL, testIntro)}}
	ctx := context.Background()
	if err := sc.Prepare(ctx, 4); err != nil {
		t.Fatal(err)
	}
	cfg := shortRun(4)
	cfg.Warmup, cfg.MaxSteps, cfg.Duration = 0, 4000, 30*time.Second
	st, err := run(ctx, sc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := func(op string) float64 {
		if o := st.Ops[op]; o != nil {
			return float64(o.ok)
		}
		return 0
	}
	steps := n("introspect") + n("refresh") + n("create")
	if steps != 4000 || st.Total.errorCount() != 0 {
		t.Fatalf("steps=%v errors=%v", steps, st.Total.errors)
	}
	if f := n("introspect") / steps; f < 0.87 || f > 0.93 {
		t.Errorf("introspect share %.3f", f)
	}
	if f := n("refresh") / steps; f < 0.07 || f > 0.11 {
		t.Errorf("refresh share %.3f", f)
	}
	if n("create") == 0 || n("create") != n("revoke") {
		t.Errorf("create %v, revoke %v: every create is followed by its revoke", n("create"), n("revoke"))
	}
}

func TestHydraScenarios(t *testing.T) {
	t.Parallel()
	pub, adm, h := newFakeHydra(t)
	for _, name := range []string{"hydra-token", "hydra-introspect"} {
		sc, target, err := buildScenario(&runFlags{scenario: name, hydraPublic: pub.URL, hydraAdmin: adm.URL, seed: 20, seedC: 3},
			newHTTPClient(4, 5*time.Second), func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if (name == "hydra-token") != (target == pub.URL) {
			t.Fatalf("%s: target %s", name, target)
		}
		ctx := context.Background()
		if err := sc.Prepare(ctx, 3); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		st, err := run(ctx, sc, shortRun(3))
		if err != nil {
			t.Fatal(err)
		}
		if st.Total.ok == 0 || st.Total.errorCount() != 0 || st.Ops[name] == nil {
			t.Fatalf("%s: ok=%d errors=%v ops=%v", name, st.Total.ok, st.Total.errors, st.opNames())
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.grants == 0 {
		t.Fatal("no grants")
	}
}

func TestCanceledRun(t *testing.T) {
	t.Parallel()
	_, srv := newFakeSessiond(t, testAdmin, testIntro)
	sc := &introspectScenario{svc: testService(srv.URL, testIntro)}
	ctx, cancel := context.WithCancel(context.Background())
	if err := sc.Prepare(ctx, 2); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	cfg := shortRun(2)
	cfg.Duration = time.Minute
	start := time.Now()
	st, err := run(ctx, sc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stopped != "canceled" || time.Since(start) > 5*time.Second || st.Total.errorCount() != 0 {
		t.Fatalf("stopped=%q after %v, errors %v", st.Stopped, time.Since(start), st.Total.errors)
	}
}

// TestRunAndSummaryCommands goes through the command line: two runs write
// reports, summary reads them and computes the ratio.
func TestRunAndSummaryCommands(t *testing.T) {
	_, srv := newFakeSessiond(t, testAdmin, testIntro)
	pub, adm, _ := newFakeHydra(t)
	t.Setenv("SESSION_ADMIN_KEY", testAdmin)
	t.Setenv("SESSION_INTROSPECT_KEY", testIntro)
	dir := t.TempDir()
	ours, hy := filepath.Join(dir, "ours.json"), filepath.Join(dir, "hydra.json")
	ctx := context.Background()
	var out, errb bytes.Buffer
	common := []string{"-c", "1,16", "-d", "100ms", "-warmup", "0", "-seed", "20", "-pid", strconv.Itoa(os.Getpid())}
	if err := dispatch(ctx, append([]string{"run", "-scenario", "introspect", "-target", srv.URL, "-label", "fake", "-json", ours}, common...), &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	if err := dispatch(ctx, append([]string{"run", "-scenario", "hydra-introspect", "-hydra-public", pub.URL, "-hydra-admin", adm.URL, "-json", hy}, common...), &out, &errb); err != nil {
		t.Fatalf("run hydra: %v\n%s", err, errb.String())
	}
	r, err := readReport(ours)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Levels) != 2 || r.Levels[1].Concurrency != 16 || r.Levels[1].OK == 0 || r.Levels[1].Memory == nil || r.Levels[1].Memory.PeakRSSMiB <= 0 {
		t.Fatalf("report levels: %+v", r.Levels)
	}
	out.Reset()
	sum := filepath.Join(dir, "summary.json")
	if err := dispatch(ctx, []string{"summary", "-json", sum, ours, hy}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "introspect") || !strings.Contains(out.String(), "hydra-introspect") || !strings.Contains(out.String(), "x (target >= 8x)") {
		t.Fatalf("summary output:\n%s", out.String())
	}
	h, _ := readReport(hy)
	rs := ratios([]*Report{r, h}, 16)
	if len(rs) != 1 || rs[0].Label != "fake" || rs[0].Ratio <= 0 {
		t.Fatalf("ratios %+v", rs)
	}
	if want := r.Levels[1].OKRPS / h.Levels[1].OKRPS; rs[0].Ratio != want {
		t.Fatalf("ratio %v, want %v", rs[0].Ratio, want)
	}
}

func TestRunRefusesNonLoopback(t *testing.T) {
	t.Setenv("SESSION_ADMIN_KEY", testAdmin)
	var out, errb bytes.Buffer
	for _, args := range [][]string{
		{"run", "-scenario", "introspect", "-target", "http://10.1.2.3:3000"},
		{"run", "-scenario", "hydra-token", "-hydra-public", "http://example.com:4444"},
		{"wait", "http://192.0.2.7/health"},
	} {
		err := dispatch(context.Background(), args, &out, &errb)
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%v: err = %v, want ErrNotLoopback", args, err)
		}
	}
}

func TestRunFlagBounds(t *testing.T) {
	t.Parallel()
	bad := [][]string{
		{"-c", "0"}, {"-c", "2000"}, {"-c", "1,x"}, {"-d", "11m"}, {"-d", "0s"}, {"-n", "0"},
		{"-seed", "0"}, {"-timeout", "2m"}, {"-warmup", "-1s"}, {"extra"},
	}
	for _, args := range bad {
		var errb bytes.Buffer
		if _, err := parseRunFlags(append([]string{"-scenario", "introspect"}, args...), &errb); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	f, err := parseRunFlags([]string{"-scenario", "mixed", "-c", "1, 16,64"}, &bytes.Buffer{})
	if err != nil || len(f.levels) != 3 || f.levels[1] != 16 {
		t.Fatalf("levels %v, %v", f, err)
	}
}

func TestRunNeedsAdminKey(t *testing.T) {
	t.Parallel()
	_, _, err := buildScenario(&runFlags{scenario: "introspect", target: "http://127.0.0.1:1"}, newHTTPClient(1, time.Second), func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "SESSION_ADMIN_KEY") {
		t.Fatalf("err = %v", err)
	}
}

func TestTokenCommand(t *testing.T) {
	fake, srv := newFakeSessiond(t, testAdmin, testIntro)
	pub, adm, h := newFakeHydra(t)
	t.Setenv("SESSION_ADMIN_KEY", testAdmin)
	var out bytes.Buffer
	if err := dispatch(context.Background(), []string{"token", "-target", srv.URL}, &out, &out); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	_, known := fake.access[strings.TrimSpace(out.String())]
	fake.mu.Unlock()
	if !known {
		t.Fatalf("printed %q, not an access token the server issued", out.String())
	}
	out.Reset()
	if err := dispatch(context.Background(), []string{"token", "-hydra-public", pub.URL, "-hydra-admin", adm.URL}, &out, &out); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.tokens[strings.TrimSpace(out.String())] {
		t.Fatalf("printed %q, not a Hydra token", out.String())
	}
}

func TestSeedWithinStopsInTime(t *testing.T) {
	t.Parallel()
	fake, _ := newFakeSessiond(t, testAdmin, testIntro)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		fake.create(w, r)
	}))
	defer slow.Close()
	svc := testService(slow.URL, testIntro)
	start := time.Now()
	got, err := svc.seedWithin(context.Background(), 1000, 2, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || len(got) > 40 || time.Since(start) > 2*time.Second {
		t.Fatalf("%d sessions in %v", len(got), time.Since(start))
	}
	for _, sl := range got {
		if sl == nil || sl.refresh == "" {
			t.Fatal("a returned slot is empty")
		}
	}
}
