package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the JSON document written by `loadgen run -json`: one scenario
// against one target at one or more concurrency levels.
type Report struct {
	Tool      string    `json:"tool"` // "sessiond-loadgen"
	Version   int       `json:"version"`
	Started   time.Time `json:"started"`
	Label     string    `json:"label"` // what was measured, e.g. "redis", "embedded", "hydra"
	Scenario  string    `json:"scenario"`
	Target    string    `json:"target"`
	Host      HostInfo  `json:"host"`
	Seeded    int       `json:"seeded,omitempty"`
	Levels    []Level   `json:"levels"`
	Notes     []string  `json:"notes,omitempty"`
	GoVersion string    `json:"go_version"`
}

// HostInfo says where the numbers come from.
type HostInfo struct {
	CPUs     int    `json:"cpus"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Hostname string `json:"hostname,omitempty"`
}

// Level is one concurrency level. Rates count every completed request
// (RPS) and the successful ones (OKRPS); latencies are in milliseconds.
type Level struct {
	Concurrency int               `json:"concurrency"`
	ElapsedSec  float64           `json:"elapsed_s"`
	Stopped     string            `json:"stopped"`
	Requests    uint64            `json:"requests"`
	OK          uint64            `json:"ok"`
	Errors      map[string]uint64 `json:"errors"`
	RPS         float64           `json:"rps"`
	OKRPS       float64           `json:"ok_rps"`
	Latency     Latency           `json:"latency_ms"`
	Ops         map[string]OpStat `json:"ops"`
	Memory      *Memory           `json:"memory,omitempty"`
	CPU         *CPU              `json:"cpu,omitempty"`
}

// CPU is processor time spent during the measured part of a level, per
// successful-or-not request and in cores (CPU seconds per wall second). On
// a shared machine the generator's share is what the target did not get.
type CPU struct {
	GeneratorUSPerReq float64 `json:"generator_us_per_req"`
	GeneratorCores    float64 `json:"generator_cores"`
	TargetUSPerReq    float64 `json:"target_us_per_req,omitempty"` // with -pid; 10 ms tick resolution
	TargetCores       float64 `json:"target_cores,omitempty"`
	// MachineCores is the whole machine's busy time over the level (all
	// processes, /proc/stat); OtherCores is what neither the generator nor
	// the target used: the store (Redis) and anything else running. On a
	// shared machine a high OtherCores says the figures are depressed.
	MachineCores float64 `json:"machine_cores,omitempty"`
	OtherCores   float64 `json:"other_cores,omitempty"`
}

// OpStat is one operation kind within a level (the mixed profile has four).
type OpStat struct {
	Requests uint64            `json:"requests"`
	OK       uint64            `json:"ok"`
	Errors   map[string]uint64 `json:"errors"`
	RPS      float64           `json:"rps"`
	Latency  Latency           `json:"latency_ms"`
}

// Latency quantiles in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// Memory of the target process (-pid) during the level, in MiB.
type Memory struct {
	PID         int     `json:"pid"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"` // highest VmRSS sampled during the level
	LifetimeHWM float64 `json:"vmhwm_mib"`    // VmHWM at the end: peak since the process began
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func latencyOf(h *Histogram) Latency {
	return Latency{
		Mean: ms(h.Mean()),
		P50:  ms(h.Quantile(0.50)),
		P90:  ms(h.Quantile(0.90)),
		P99:  ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)),
		Max:  ms(h.Max()),
	}
}

func rate(n uint64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(n) / elapsed.Seconds()
}

// levelOf turns merged stats into the report's shape.
func levelOf(st *LevelStats) Level {
	lv := Level{
		Concurrency: st.Concurrency,
		ElapsedSec:  st.Elapsed.Seconds(),
		Stopped:     st.Stopped,
		Requests:    st.Total.count(),
		OK:          st.Total.ok,
		Errors:      st.Total.errors,
		RPS:         rate(st.Total.count(), st.Elapsed),
		OKRPS:       rate(st.Total.ok, st.Elapsed),
		Latency:     latencyOf(&st.Total.hist),
		Ops:         make(map[string]OpStat, len(st.Ops)),
	}
	for name, o := range st.Ops {
		lv.Ops[name] = OpStat{
			Requests: o.count(),
			OK:       o.ok,
			Errors:   o.errors,
			RPS:      rate(o.count(), st.Elapsed),
			Latency:  latencyOf(&o.hist),
		}
	}
	return lv
}

func hostInfo() HostInfo {
	h, _ := os.Hostname()
	return HostInfo{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Hostname: h}
}

// formatErrors renders error counts as "http_429=3 transport=1", sorted.
func formatErrors(m map[string]uint64) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// tableHeader and tableRow render the human table shared by run and summary.
const tableHeader = "label\tscenario\top\tconc\tstop\treq/s\tok\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\tpeak RSS MiB\ttarget CPU us/req\tgen CPU us/req\tother cores\t"

func tableRow(w io.Writer, label, scenario, op string, conc int, stop string, rps float64, ok uint64, l Latency, errs map[string]uint64, mem *Memory, cpu *CPU) {
	rss, tcpu, gcpu, other := "-", "-", "-", "-"
	if mem != nil {
		rss = fmt.Sprintf("%.1f", mem.PeakRSSMiB)
	}
	if cpu != nil {
		gcpu = fmt.Sprintf("%.0f", cpu.GeneratorUSPerReq)
		if cpu.TargetCores > 0 {
			tcpu = fmt.Sprintf("%.0f", cpu.TargetUSPerReq)
		}
		if cpu.MachineCores > 0 && cpu.TargetCores > 0 {
			other = fmt.Sprintf("%.2f", cpu.OtherCores)
		}
	}
	fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%.0f\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\t%s\t\n",
		label, scenario, op, conc, stop, rps, ok, l.P50, l.P99, l.P999, l.Max, formatErrors(errs), rss, tcpu, gcpu, other)
}

// writeTable prints every level of the reports, with one line per
// operation under levels that mix several.
func writeTable(out io.Writer, reports []*Report) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, tableHeader)
	for _, r := range reports {
		for _, lv := range r.Levels {
			tableRow(w, r.Label, r.Scenario, "all", lv.Concurrency, stopShort[lv.Stopped], lv.RPS, lv.OK, lv.Latency, lv.Errors, lv.Memory, lv.CPU)
			if len(lv.Ops) > 1 {
				names := make([]string, 0, len(lv.Ops))
				for n := range lv.Ops {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					o := lv.Ops[n]
					tableRow(w, "", "", n, lv.Concurrency, "", o.RPS, o.OK, o.Latency, o.Errors, nil, nil)
				}
			}
		}
	}
	w.Flush()
}

// stopShort abbreviates why a level ended: its duration ran out ("time"),
// its step budget (-n, "count"), its pool ("pool", revoke), or it was
// interrupted ("cancel").
var stopShort = map[string]string{"duration": "time", "max_requests": "count", "exhausted": "pool", "canceled": "cancel"}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("loadgen: %s: %w", path, err)
	}
	if r.Tool != toolName {
		return nil, fmt.Errorf("loadgen: %s is not a loadgen report", path)
	}
	return &r, nil
}

const toolName = "sessiond-loadgen"
