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
	Tool    string      `json:"tool"`
	Reports []*Report   `json:"reports"`
	Ratios  []Ratio     `json:"ratios"`
	Memory  []MemLine   `json:"memory"`
	Floor   []FloorLine `json:"floor,omitempty"`
}

// FloorLine places one of our introspection reports, and 8x Hydra's
// introspection rate (the target), against the floor: `loadgen floor`, a
// bare net/http server doing one Redis GET per request, measured with
// floor-introspect. Rates are successful requests per second at
// Concurrency. Label is empty when no introspection of ours was measured;
// the Hydra fields are zero when Hydra was not.
type FloorLine struct {
	Label              string  `json:"label,omitempty"` // our introspect report
	FloorLabel         string  `json:"floor_label"`
	Concurrency        int     `json:"concurrency"`
	FloorOKRPS         float64 `json:"floor_ok_rps"`
	FloorP99ms         float64 `json:"floor_p99_ms"`
	OursOKRPS          float64 `json:"ours_ok_rps,omitempty"`
	OursOfFloor        float64 `json:"ours_of_floor,omitempty"` // ours / floor
	HydraOKRPS         float64 `json:"hydra_ok_rps,omitempty"`
	HydraTargetRatio   float64 `json:"hydra_target_ratio,omitempty"`    // 8
	HydraTargetOKRPS   float64 `json:"hydra_target_ok_rps,omitempty"`   // 8 x Hydra
	HydraTargetOfFloor float64 `json:"hydra_target_of_floor,omitempty"` // 8 x Hydra / floor
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

// floorScenario is the scenario of `loadgen floor`'s reports.
const floorScenario = "floor-introspect"

// floorLines compares every introspect report of ours, and the target
// multiple of Hydra's introspection, with the floor at conc (the last floor
// and Hydra reports given win when there are several). Nothing without a
// floor level at conc.
func floorLines(reports []*Report, conc int) []FloorLine {
	lastLevel := func(scenario string) (*Report, *Level) {
		var rep *Report
		var lv *Level
		for _, r := range reports {
			if r.Scenario == scenario {
				if l := findLevel(r, conc); l != nil {
					rep, lv = r, l
				}
			}
		}
		return rep, lv
	}
	fr, fl := lastLevel(floorScenario)
	if fl == nil {
		return nil
	}
	base := FloorLine{FloorLabel: fr.Label, Concurrency: conc, FloorOKRPS: fl.OKRPS, FloorP99ms: fl.Latency.P99}
	for _, p := range pairs {
		if p.ours != "introspect" {
			continue
		}
		if _, hy := lastLevel(p.hydra); hy != nil {
			base.HydraOKRPS = hy.OKRPS
			base.HydraTargetRatio = p.ratio
			base.HydraTargetOKRPS = p.ratio * hy.OKRPS
			if fl.OKRPS > 0 {
				base.HydraTargetOfFloor = base.HydraTargetOKRPS / fl.OKRPS
			}
		}
	}
	var out []FloorLine
	for _, r := range reports {
		if r.Scenario != "introspect" {
			continue
		}
		lv := findLevel(r, conc)
		if lv == nil {
			continue
		}
		line := base
		line.Label, line.OursOKRPS = r.Label, lv.OKRPS
		if fl.OKRPS > 0 {
			line.OursOfFloor = lv.OKRPS / fl.OKRPS
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		out = append(out, base)
	}
	return out
}

// writeFloor prints one line per FloorLine, e.g.
//
//	floor     bare net/http + one Redis GET: 15234/s; redis introspect = 0.70 of it; 8x hydra-introspect = 18016/s = 1.18x the floor
func writeFloor(w io.Writer, lines []FloorLine) {
	for _, l := range lines {
		s := fmt.Sprintf("  %-9s bare net/http + one Redis GET: %.0f/s", l.FloorLabel, l.FloorOKRPS)
		if l.Label != "" {
			s += fmt.Sprintf("; %s introspect = %.2f of it", l.Label, l.OursOfFloor)
		}
		if l.HydraTargetOKRPS > 0 {
			s += fmt.Sprintf("; %.0fx hydra-introspect = %.0f/s = %.2fx the floor", l.HydraTargetRatio, l.HydraTargetOKRPS, l.HydraTargetOfFloor)
		}
		fmt.Fprintln(w, s)
	}
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
	fl := floorLines(reports, *conc)
	if len(fl) > 0 && len(rs) == 0 {
		fmt.Fprintf(stdout, "\nagainst the floor at concurrency %d (successful req/s):\n", *conc)
	}
	writeFloor(stdout, fl)
	mem := mixedMemory(reports)
	for _, m := range mem {
		fmt.Fprintf(stdout, "  %-9s mixed profile peak RSS %.1f MiB (target < %d MiB)\n", m.Label, m.PeakRSSMiB, memTargetMiB)
	}
	if *jsonOut != "" {
		return writeJSON(*jsonOut, Summary{Tool: toolName, Reports: reports, Ratios: rs, Memory: mem, Floor: fl})
	}
	return nil
}
