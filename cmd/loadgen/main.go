package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Hard bounds: the generator must stop by itself whatever it is told.
const (
	maxDuration    = 10 * time.Minute
	maxSteps       = 100_000_000
	maxConcurrency = 1024
	maxSeed        = 1_000_000
)

const usage = `loadgen: load generator for sessiond and Ory Hydra (loopback only)

  loadgen run -scenario NAME [flags]     drive one scenario at each concurrency level
  loadgen summary [-ratio-c 16] FILE...  table of run reports and ours/Hydra ratios
  loadgen coldstart [flags] NAME=BIN[@PATH]...
                                         exec-to-first-answer time and size of binaries
  loadgen handlers DIR                   list Vercel handler functions under DIR (api/)
  loadgen freeport                       print a free loopback TCP port
  loadgen wait [-timeout 30s] URL        wait until URL answers 2xx
  loadgen token [-target URL | -hydra-public URL -hydra-admin URL]
                                         print one fresh access token (for wrk)
  loadgen floor [-addr 127.0.0.1:PORT] [-redis URL] [-d 10m]
                                         the floor: a bare net/http server doing one
                                         Redis GET per introspection (loopback only)

scenarios: introspect refresh create revoke list mixed (sessiond)
           hydra-introspect hydra-token (Ory Hydra)
           floor-introspect (loadgen floor, at -target)
keys come from SESSION_ADMIN_KEY and SESSION_INTROSPECT_KEY (never from flags,
which other users of the machine can read in the process list).
Run "loadgen run -h" for the flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "summary":
		return cmdSummary(args[1:], stdout)
	case "coldstart":
		return cmdColdstart(ctx, args[1:], stdout, stderr)
	case "handlers":
		return cmdHandlers(args[1:], stdout)
	case "freeport":
		p, err := freePort()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, p)
		return nil
	case "wait":
		return cmdWait(ctx, args[1:])
	case "token":
		return cmdToken(ctx, args[1:], stdout)
	case "floor":
		return cmdFloor(ctx, args[1:], stderr, os.Getenv)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("loadgen: unknown command %q", args[0])
}

// runFlags are the options of `loadgen run`.
type runFlags struct {
	scenario    string
	target      string
	hydraPublic string
	hydraAdmin  string
	levels      []int
	duration    time.Duration
	maxSteps    int64
	warmup      time.Duration
	seed        int
	seedC       int
	revokePool  int
	revokeSeed  time.Duration
	timeout     time.Duration
	form        bool
	device      bool
	label       string
	jsonOut     string
	pid         int
}

func parseRunFlags(args []string, stderr io.Writer) (*runFlags, error) {
	f := &runFlags{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.scenario, "scenario", "", "introspect, refresh, create, revoke, list, mixed, hydra-introspect, hydra-token or floor-introspect")
	fs.StringVar(&f.target, "target", "http://127.0.0.1:3000", "base URL of sessiond, or of loadgen floor for floor-introspect (loopback only)")
	fs.StringVar(&f.hydraPublic, "hydra-public", "http://127.0.0.1:4444", "Hydra public URL (loopback only)")
	fs.StringVar(&f.hydraAdmin, "hydra-admin", "http://127.0.0.1:4445", "Hydra admin URL (loopback only)")
	levels := fs.String("c", "1,16,64", "comma-separated concurrency levels")
	fs.DurationVar(&f.duration, "d", 5*time.Second, "measured duration per level (max 10m)")
	fs.Int64Var(&f.maxSteps, "n", 2_000_000, "at most this many steps per level, warm-up included (max 1e8)")
	fs.DurationVar(&f.warmup, "warmup", 500*time.Millisecond, "unmeasured load before each level")
	fs.IntVar(&f.seed, "seed", 1000, "sessions (or Hydra tokens) created before the first level")
	fs.IntVar(&f.seedC, "seed-c", 16, "concurrency of seeding")
	fs.IntVar(&f.revokePool, "revoke-pool", 20000, "sessions created before each revoke level (the level ends when they are all revoked)")
	fs.DurationVar(&f.revokeSeed, "revoke-seed-time", 30*time.Second, "stop creating the revoke pool after this long and use what exists")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "limit per request")
	fs.BoolVar(&f.form, "form", true, "form bodies for introspect and revoke (RFC 7662/7009 shapes); false: JSON (floor-introspect is always form)")
	fs.BoolVar(&f.device, "device", true, "send a device fingerprint on create and refresh")
	fs.StringVar(&f.label, "label", "", "label of this target in reports (default: the scenario's side)")
	fs.StringVar(&f.jsonOut, "json", "", "write the report as JSON to this file")
	fs.IntVar(&f.pid, "pid", 0, "pid of the target process: report its peak resident memory per level")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("loadgen run: unexpected arguments %q", fs.Args())
	}
	for _, s := range strings.Split(*levels, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || c < 1 || c > maxConcurrency {
			return nil, fmt.Errorf("loadgen run: -c: %q is not a concurrency in 1..%d", s, maxConcurrency)
		}
		f.levels = append(f.levels, c)
	}
	switch {
	case f.duration <= 0 || f.duration > maxDuration:
		return nil, fmt.Errorf("loadgen run: -d %v is outside (0, %v]", f.duration, maxDuration)
	case f.warmup < 0 || f.warmup > time.Minute:
		return nil, fmt.Errorf("loadgen run: -warmup %v is outside [0, 1m]", f.warmup)
	case f.maxSteps < 1 || f.maxSteps > maxSteps:
		return nil, fmt.Errorf("loadgen run: -n %d is outside [1, %d]", f.maxSteps, maxSteps)
	case f.seed < 1 || f.seed > maxSeed:
		return nil, fmt.Errorf("loadgen run: -seed %d is outside [1, %d]", f.seed, maxSeed)
	case f.revokePool < 1 || f.revokePool > maxSeed:
		return nil, fmt.Errorf("loadgen run: -revoke-pool %d is outside [1, %d]", f.revokePool, maxSeed)
	case f.seedC < 1 || f.seedC > maxConcurrency:
		return nil, fmt.Errorf("loadgen run: -seed-c %d is outside [1, %d]", f.seedC, maxConcurrency)
	case f.revokeSeed <= 0 || f.revokeSeed > maxDuration:
		return nil, fmt.Errorf("loadgen run: -revoke-seed-time %v is outside (0, %v]", f.revokeSeed, maxDuration)
	case f.timeout <= 0 || f.timeout > time.Minute:
		return nil, fmt.Errorf("loadgen run: -timeout %v is outside (0, 1m]", f.timeout)
	}
	if f.pid < 0 {
		return nil, fmt.Errorf("loadgen run: -pid %d is not a pid", f.pid)
	}
	return f, nil
}

// buildScenario resolves -scenario against the flags and the environment.
func buildScenario(f *runFlags, client *http.Client, getenv func(string) string) (Scenario, string, error) {
	if strings.HasPrefix(f.scenario, "hydra-") {
		pub, err := checkLoopbackURL(f.hydraPublic)
		if err != nil {
			return nil, "", err
		}
		adm, err := checkLoopbackURL(f.hydraAdmin)
		if err != nil {
			return nil, "", err
		}
		h := &hydra{public: strings.TrimRight(pub.String(), "/"), admin: strings.TrimRight(adm.String(), "/"),
			client: client, seedN: f.seed, seedC: f.seedC}
		switch f.scenario {
		case "hydra-introspect":
			return &hydraIntrospectScenario{h: h}, h.admin, nil
		case "hydra-token":
			return &hydraTokenScenario{h: h}, h.public, nil
		}
		return nil, "", fmt.Errorf("loadgen run: unknown scenario %q", f.scenario)
	}
	if f.scenario == "floor-introspect" {
		return buildFloorScenario(f, client, getenv)
	}
	u, err := checkLoopbackURL(f.target)
	if err != nil {
		return nil, "", err
	}
	admin := getenv("SESSION_ADMIN_KEY")
	if admin == "" {
		return nil, "", errors.New("loadgen run: SESSION_ADMIN_KEY must be set: sessions are seeded with the admin key")
	}
	intro := getenv("SESSION_INTROSPECT_KEY")
	if intro == "" {
		intro = admin // SPEC: the admin key is accepted for introspection too
	}
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, "", err
	}
	svc := &service{
		base: strings.TrimRight(u.String(), "/"), adminKey: admin, introspectKey: intro,
		form: f.form, device: f.device, runID: hex.EncodeToString(id[:]), client: client,
		seedN: f.seed, seedC: f.seedC, revokePool: f.revokePool, revokeSeed: f.revokeSeed,
	}
	var sc Scenario
	switch f.scenario {
	case "introspect":
		sc = &introspectScenario{svc: svc}
	case "list":
		sc = &listScenario{introspectScenario{svc: svc}}
	case "refresh":
		sc = &refreshScenario{svc: svc}
	case "create":
		sc = &createScenario{svc: svc}
	case "revoke":
		sc = &revokeScenario{svc: svc}
	case "mixed":
		sc = &mixedScenario{refreshScenario: refreshScenario{svc: svc}}
	default:
		return nil, "", fmt.Errorf("loadgen run: unknown scenario %q", f.scenario)
	}
	return sc, svc.base, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseRunFlags(args, stderr)
	if err != nil {
		return err
	}
	maxC := 0
	for _, c := range f.levels {
		maxC = max(maxC, c)
	}
	client := newHTTPClient(max(maxC, f.seedC), f.timeout)
	sc, target, err := buildScenario(f, client, os.Getenv)
	if err != nil {
		return err
	}
	label := f.label
	if label == "" {
		label = defaultLabel(f.scenario)
	}
	rep := &Report{
		Tool: toolName, Version: 1, Started: time.Now().UTC(), Label: label, Scenario: f.scenario,
		Target: target, Host: hostInfo(), Seeded: f.seed, GoVersion: runtime.Version(),
	}
	if runtime.NumCPU() <= 4 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("generator and target share %d CPUs: rates include the generator's own cost", runtime.NumCPU()))
	}
	for _, c := range f.levels {
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "loadgen: %s %s c=%d: preparing\n", label, f.scenario, c)
		if err := sc.Prepare(ctx, c); err != nil {
			return err
		}
		var sampler *rssSampler
		if f.pid > 0 {
			sampler = startRSSSampler(f.pid, 50*time.Millisecond)
		}
		var (
			cpuMu    sync.Mutex
			cpuStart cpuSnap
		)
		st, err := run(ctx, sc, RunConfig{Concurrency: c, Duration: f.duration, MaxSteps: f.maxSteps, Warmup: f.warmup, Timeout: f.timeout,
			OnMeasure: func() {
				s := takeCPU(f.pid)
				cpuMu.Lock()
				cpuStart = s
				cpuMu.Unlock()
			}})
		if err != nil {
			return err
		}
		cpuEnd := takeCPU(f.pid)
		lv := levelOf(st)
		cpuMu.Lock()
		lv.CPU = cpuOf(cpuStart, cpuEnd, lv.Requests, st.Elapsed)
		cpuMu.Unlock()
		if sampler != nil {
			peak, hwm, err := sampler.Stop()
			if err != nil {
				return err
			}
			lv.Memory = &Memory{PID: f.pid, PeakRSSMiB: float64(peak) / 1024, LifetimeHWM: float64(hwm) / 1024}
		}
		fmt.Fprintf(stderr, "loadgen: %s %s c=%d: %.0f req/s, p99 %.2f ms, errors: %s (stopped: %s)%s\n",
			label, f.scenario, c, lv.RPS, lv.Latency.P99, formatErrors(lv.Errors), lv.Stopped, cpuNote(lv.CPU))
		if lv.Requests == 0 {
			note := fmt.Sprintf("c=%d measured no request (stopped: %s); for revoke, raise -revoke-pool or lower -warmup", c, lv.Stopped)
			rep.Notes = append(rep.Notes, note)
			fmt.Fprintln(stderr, "loadgen: warning:", note)
		}
		rep.Levels = append(rep.Levels, lv)
		client.CloseIdleConnections()
	}
	writeTable(stdout, []*Report{rep})
	if f.jsonOut != "" {
		if err := writeJSON(f.jsonOut, rep); err != nil {
			return err
		}
	}
	return nil
}

// defaultLabel is the label of a report when -label is not given: the
// side the scenario measures.
func defaultLabel(scenario string) string {
	switch {
	case strings.HasPrefix(scenario, "hydra-"):
		return "hydra"
	case scenario == "floor-introspect":
		return "floor"
	}
	return "sessiond"
}

// freePort asks the kernel for a free loopback port. It is free when
// returned; a caller racing other programs for ports must still handle a
// failed bind.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cmdWait polls URL until it answers 2xx or the timeout passes.
func cmdWait(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long (max 10m)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("loadgen wait: give one URL")
	}
	if *timeout <= 0 || *timeout > maxDuration {
		return fmt.Errorf("loadgen wait: -timeout %v is outside (0, %v]", *timeout, maxDuration)
	}
	u, err := checkLoopbackURL(fs.Arg(0))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	rq := &requester{client: newHTTPClient(1, 2*time.Second)}
	defer rq.close()
	last := "no answer"
	for {
		c := rq.do(ctx, http.MethodGet, u.String(), "", "")
		if c.err == nil && c.status >= 200 && c.status < 300 {
			return nil
		}
		if c.err == nil {
			last = "status " + strconv.Itoa(c.status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadgen wait: %s: %s after %v", u.Redacted(), last, *timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// cpuOf turns two snapshots around the measured part into per-request and
// per-second figures; nil when nothing was measured.
func cpuOf(a, b cpuSnap, requests uint64, elapsed time.Duration) *CPU {
	if requests == 0 || elapsed <= 0 || a.gen == 0 {
		return nil
	}
	c := &CPU{
		GeneratorUSPerReq: float64((b.gen - a.gen).Microseconds()) / float64(requests),
		GeneratorCores:    (b.gen - a.gen).Seconds() / elapsed.Seconds(),
	}
	if a.hasTgt && b.hasTgt {
		c.TargetUSPerReq = float64((b.target - a.target).Microseconds()) / float64(requests)
		c.TargetCores = (b.target - a.target).Seconds() / elapsed.Seconds()
	}
	if a.hasBusy && b.hasBusy {
		c.MachineCores = (b.busy - a.busy).Seconds() / elapsed.Seconds()
		if c.TargetCores > 0 {
			c.OtherCores = max(0, c.MachineCores-c.TargetCores-c.GeneratorCores)
		}
	}
	return c
}

func cpuNote(c *CPU) string {
	if c == nil {
		return ""
	}
	s := fmt.Sprintf(", generator %.0f us CPU/req (%.2f cores)", c.GeneratorUSPerReq, c.GeneratorCores)
	if c.TargetCores > 0 {
		s += fmt.Sprintf(", target %.0f us CPU/req (%.2f cores)", c.TargetUSPerReq, c.TargetCores)
	}
	if c.MachineCores > 0 {
		s += fmt.Sprintf(", machine %.2f cores busy", c.MachineCores)
		if c.TargetCores > 0 {
			s += fmt.Sprintf(" (%.2f neither target nor generator)", c.OtherCores)
		}
	}
	return s
}
