package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
)

// Ratio compares one of our endpoints with its Hydra counterpart at one
// concurrency, from successful requests per second.
type Ratio struct {
	Label        string  `json:"label"`
	Ours         string  `json:"ours"`
	Hydra        string  `json:"hydra"`
	Concurrency  int     `json:"concurrency"`
	OursOKRPS    float64 `json:"ours_ok_rps"`
	HydraOKRPS   float64 `json:"hydra_ok_rps"`
	Ratio        float64 `json:"ratio"`
	TargetRatio  float64 `json:"target_ratio"`
	OursP99ms    float64 `json:"ours_p99_ms"`
	TargetP99ms  float64 `json:"target_p99_ms"`
	HydraP99ms   float64 `json:"hydra_p99_ms"`
	MeetsTargets bool    `json:"meets_targets"`
}

// Summary is the JSON written by `loadgen summary -json`.
type Summary struct {
	Tool    string    `json:"tool"`
	Reports []*Report `json:"reports"`
	Ratios  []Ratio   `json:"ratios"`
	Memory  []MemLine `json:"memory"`
}

// MemLine is the peak resident memory of one target in the mixed profile.
type MemLine struct {
	Label      string  `json:"label"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	TargetMiB  float64 `json:"target_mib"`
}

// pairs are the comparisons issue 7 asks for, with its targets: ours at
// least TargetRatio times Hydra's rate, with our p99 under TargetP99ms.
var pairs = []struct {
	ours, hydra string
	ratio, p99  float64
}{
	{"introspect", "hydra-introspect", 8, 5},
	{"refresh", "hydra-token", 6, 10},
}

const memTargetMiB = 64

func findLevel(r *Report, conc int) *Level {
	for i := range r.Levels {
		if r.Levels[i].Concurrency == conc {
			return &r.Levels[i]
		}
	}
	return nil
}

// ratios pairs every report of ours with the Hydra report of its
// counterpart (the last one given wins when there are several).
func ratios(reports []*Report, conc int) []Ratio {
	var out []Ratio
	for _, p := range pairs {
		var hy *Level
		for _, r := range reports {
			if r.Scenario == p.hydra {
				if lv := findLevel(r, conc); lv != nil {
					hy = lv
				}
			}
		}
		if hy == nil {
			continue
		}
		for _, r := range reports {
			if r.Scenario != p.ours {
				continue
			}
			lv := findLevel(r, conc)
			if lv == nil {
				continue
			}
			rt := Ratio{
				Label: r.Label, Ours: p.ours, Hydra: p.hydra, Concurrency: conc,
				OursOKRPS: lv.OKRPS, HydraOKRPS: hy.OKRPS,
				TargetRatio: p.ratio, OursP99ms: lv.Latency.P99, TargetP99ms: p.p99, HydraP99ms: hy.Latency.P99,
			}
			if hy.OKRPS > 0 {
				rt.Ratio = lv.OKRPS / hy.OKRPS
			}
			rt.MeetsTargets = rt.Ratio >= p.ratio && rt.OursP99ms < p.p99
			out = append(out, rt)
		}
	}
	return out
}

func mixedMemory(reports []*Report) []MemLine {
	var out []MemLine
	for _, r := range reports {
		if r.Scenario != "mixed" {
			continue
		}
		var peak float64
		for _, lv := range r.Levels {
			if lv.Memory != nil && lv.Memory.PeakRSSMiB > peak {
				peak = lv.Memory.PeakRSSMiB
			}
		}
		if peak > 0 {
			out = append(out, MemLine{Label: r.Label, PeakRSSMiB: peak, TargetMiB: memTargetMiB})
		}
	}
	return out
}

func cmdSummary(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	conc := fs.Int("ratio-c", 16, "concurrency at which ours and Hydra are compared")
	jsonOut := fs.String("json", "", "write the combined summary as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("loadgen summary: give report files (from run -json)")
	}
	var reports []*Report
	for _, p := range fs.Args() {
		r, err := readReport(p)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	sort.SliceStable(reports, func(i, j int) bool { return reports[i].Label < reports[j].Label })
	writeTable(stdout, reports)

	rs := ratios(reports, *conc)
	if len(rs) > 0 {
		fmt.Fprintf(stdout, "\nside by side at concurrency %d (successful req/s, ours / Hydra):\n", *conc)
		for _, r := range rs {
			verdict := "meets"
			if !r.MeetsTargets {
				verdict = "MISSES"
			}
			fmt.Fprintf(stdout, "  %-9s %-10s %8.0f/s vs %-16s %7.0f/s = %5.2fx (target >= %.0fx); p99 %.2f ms (target < %.0f ms; hydra %.2f ms): %s target\n",
				r.Label, r.Ours, r.OursOKRPS, r.Hydra, r.HydraOKRPS, r.Ratio, r.TargetRatio, r.OursP99ms, r.TargetP99ms, r.HydraP99ms, verdict)
		}
	}
	mem := mixedMemory(reports)
	for _, m := range mem {
		fmt.Fprintf(stdout, "  %-9s mixed profile peak RSS %.1f MiB (target < %d MiB)\n", m.Label, m.PeakRSSMiB, memTargetMiB)
	}
	if *jsonOut != "" {
		return writeJSON(*jsonOut, Summary{Tool: toolName, Reports: reports, Ratios: rs, Memory: mem})
	}
	return nil
}
