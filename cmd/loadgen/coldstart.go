package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

// startTarget is one binary of a cold-start comparison.
type startTarget struct {
	Name string `json:"name"`
	Bin  string `json:"bin"`
	Path string `json:"path"` // requested path, e.g. /api/health
}

// StartResult is the cold-start figure of one binary over n starts.
type StartResult struct {
	startTarget
	SizeBytes  int64     `json:"size_bytes"`
	SizeMB     float64   `json:"size_mb"` // 10^6 bytes
	Samples    []float64 `json:"samples_ms"`
	MedianMS   float64   `json:"median_ms"`
	MinMS      float64   `json:"min_ms"`
	P90MS      float64   `json:"p90_ms"`
	MaxMS      float64   `json:"max_ms"`
	Status     int       `json:"first_status"` // status of the first answer (any status counts)
	VsBaseline float64   `json:"vs_baseline"`  // median / baseline median
	Baseline   bool      `json:"baseline,omitempty"`
}

// ColdstartReport is the JSON of `loadgen coldstart -json`.
type ColdstartReport struct {
	Tool    string        `json:"tool"`
	Started time.Time     `json:"started"`
	Host    HostInfo      `json:"host"`
	Runs    int           `json:"runs"`
	Results []StartResult `json:"results"`
}

func parseStartTarget(s string) (startTarget, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" || rest == "" {
		return startTarget{}, fmt.Errorf("loadgen coldstart: %q is not NAME=BIN[@PATH]", s)
	}
	bin, path, _ := strings.Cut(rest, "@")
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return startTarget{}, fmt.Errorf("loadgen coldstart: path %q must start with /", path)
	}
	return startTarget{Name: name, Bin: bin, Path: path}, nil
}

func cmdColdstart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 20, "starts per binary (max 200)")
	baseline := fs.String("baseline", "hello", "name of the reference binary")
	timeout := fs.Duration("timeout", 10*time.Second, "give up on a start after this long")
	jsonOut := fs.String("json", "", "write results as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > 200 {
		return fmt.Errorf("loadgen coldstart: -n %d is outside [1, 200]", *n)
	}
	if *timeout <= 0 || *timeout > time.Minute {
		return fmt.Errorf("loadgen coldstart: -timeout %v is outside (0, 1m]", *timeout)
	}
	var targets []startTarget
	for _, a := range fs.Args() {
		t, err := parseStartTarget(a)
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		return errors.New("loadgen coldstart: give NAME=BIN[@PATH] targets")
	}
	results := make([]StartResult, len(targets))
	for i, t := range targets {
		fi, err := os.Stat(t.Bin)
		if err != nil {
			return fmt.Errorf("loadgen coldstart: %w", err)
		}
		results[i] = StartResult{startTarget: t, SizeBytes: fi.Size(), SizeMB: float64(fi.Size()) / 1e6}
	}
	// Interleave the binaries and alternate their order, so that drift in
	// the machine's load falls on all of them alike.
	for rep := 0; rep < *n; rep++ {
		for k := range targets {
			i := k
			if rep%2 == 1 {
				i = len(targets) - 1 - k
			}
			d, status, err := measureStart(ctx, targets[i], *timeout)
			if err != nil {
				return err
			}
			results[i].Samples = append(results[i].Samples, ms(d))
			if results[i].Status == 0 {
				results[i].Status = status
			}
		}
	}
	var base float64
	for i := range results {
		r := &results[i]
		s := slices.Clone(r.Samples)
		slices.Sort(s)
		r.MedianMS = median(s)
		r.MinMS, r.MaxMS = s[0], s[len(s)-1]
		r.P90MS = s[nearestRank(len(s), 0.9)]
		if r.Name == *baseline {
			base, r.Baseline = r.MedianMS, true
		}
	}
	for i := range results {
		if base > 0 {
			results[i].VsBaseline = results[i].MedianMS / base
		}
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "binary\tsize MB\tmedian ms\tmin ms\tp90 ms\tmax ms\tvs "+*baseline+"\tfirst status\tpath\t")
	for _, r := range results {
		vs := "-"
		if base > 0 {
			vs = fmt.Sprintf("%.2fx", r.VsBaseline)
		}
		fmt.Fprintf(w, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%d\t%s\t\n", r.Name, r.SizeMB, r.MedianMS, r.MinMS, r.P90MS, r.MaxMS, vs, r.Status, r.Path)
	}
	w.Flush()
	if *jsonOut != "" {
		return writeJSON(*jsonOut, ColdstartReport{Tool: toolName, Started: time.Now().UTC(), Host: hostInfo(), Runs: *n, Results: results})
	}
	return nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// nearestRank is the index of the q-quantile in a sorted slice of n.
func nearestRank(n int, q float64) int {
	i := int(math.Ceil(float64(n)*q)) - 1
	return min(max(i, 0), n-1)
}

// tailBuffer keeps the last bytes written to it (a child's output, shown
// only when a start fails).
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - 2048; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// measureStart execs the binary on a free loopback port (PORT and ADDR are
// set) and polls it until it answers; the time runs from just before exec to
// the first complete HTTP answer, whatever its status. The process is then
// stopped (SIGTERM, SIGKILL after 3 s).
func measureStart(ctx context.Context, t startTarget, timeout time.Duration) (time.Duration, int, error) {
	port, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	p := strconv.Itoa(port)
	url := "http://127.0.0.1:" + p + t.Path
	client := newHTTPClient(1, time.Second)
	client.Transport.(*http.Transport).DisableKeepAlives = true

	var out tailBuffer
	cmd := exec.Command(t.Bin)
	cmd.Env = append(os.Environ(), "PORT="+p, "ADDR=127.0.0.1:"+p)
	cmd.Stdout, cmd.Stderr = &out, &out
	exited := make(chan error, 1)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("loadgen coldstart: %s: %w", t.Name, err)
	}
	go func() { exited <- cmd.Wait() }()
	defer stopChild(cmd, exited)

	deadline := start.Add(timeout)
	pr := probeFor(t.Path, os.Getenv)
	if pr.query != "" && !strings.Contains(t.Path, "?") {
		url += "?" + pr.query
	}
	for {
		var body io.Reader
		if pr.body != "" {
			body = strings.NewReader(pr.body)
		}
		req, _ := http.NewRequestWithContext(ctx, pr.method, url, body)
		if pr.contentType != "" {
			req.Header.Set("Content-Type", pr.contentType)
		}
		if pr.auth != "" {
			req.Header.Set("Authorization", pr.auth)
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return time.Since(start), resp.StatusCode, nil
		}
		select {
		case werr := <-exited:
			exited <- werr // for stopChild
			return 0, 0, fmt.Errorf("loadgen coldstart: %s exited before answering (%v): %s", t.Name, werr, out.String())
		default:
		}
		if ctx.Err() != nil {
			return 0, 0, ctx.Err()
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("loadgen coldstart: %s did not answer %s within %v: %v; output: %s", t.Name, t.Path, timeout, err, out.String())
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// probe is the first request sent to a starting function. It is a real
// request of the contract, so that whatever a function initializes lazily
// on its first call (configuration, keys, the KV connection) is inside the
// measured time. It changes no state that matters: unknown tokens, a user
// without sessions (a listing may leave an audit event in the store the
// functions were given, which coldstart.sh points at the bench database).
// The cron job is probed without its secret (401): running it would prune.
type probe struct {
	method, contentType, body, auth string
	query                           string // added when the target path has none
}

func probeFor(path string, getenv func(string) string) probe {
	route, _, _ := strings.Cut(path, "?")
	admin := "Bearer " + getenv("SESSION_ADMIN_KEY")
	intro := getenv("SESSION_INTROSPECT_KEY")
	if intro == "" {
		intro = getenv("SESSION_ADMIN_KEY")
	}
	switch route {
	case "/api/introspect":
		return probe{method: http.MethodPost, contentType: ctForm, body: "token=coldstart-probe-not-a-token", auth: "Bearer " + intro}
	case "/api/refresh":
		return probe{method: http.MethodPost, contentType: ctForm, body: "grant_type=refresh_token&refresh_token=coldstart-probe-not-a-token"}
	case "/api/revoke":
		return probe{method: http.MethodPost, contentType: ctForm, body: "token=coldstart-probe-not-a-token"}
	case "/api/sessions":
		if getenv("SESSION_ADMIN_KEY") != "" {
			return probe{method: http.MethodGet, auth: admin, query: "user_id=coldstart-probe"}
		}
	case "/api/audit":
		if getenv("SESSION_ADMIN_KEY") != "" {
			return probe{method: http.MethodGet, auth: admin, query: "user_id=coldstart-probe&limit=1"}
		}
	case "/api/security/summary":
		if getenv("SESSION_ADMIN_KEY") != "" {
			return probe{method: http.MethodGet, auth: admin}
		}
	}
	return probe{method: http.MethodGet}
}

func stopChild(cmd *exec.Cmd, exited chan error) {
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(3 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}
