package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Scenario is one kind of load. Prepare runs before every concurrency level
// and is not measured (seeding, pools); Step performs one unit of work for
// one worker and records every request it sends. Step is called
// concurrently for different worker indexes, never for the same one, so
// per-worker state indexed by worker needs no lock. Step returns false when
// the worker has nothing left to do (an exhausted pool).
type Scenario interface {
	Prepare(ctx context.Context, workers int) error
	Step(ctx context.Context, worker int, rec *Recorder) bool
}

// opStats are the measurements of one operation kind for one worker.
type opStats struct {
	hist   Histogram
	ok     uint64
	errors map[string]uint64
}

// Recorder collects one worker's measurements. Not safe for concurrent use.
type Recorder struct {
	ops map[string]*opStats
	on  bool // false during warm-up
}

func newRecorder() *Recorder { return &Recorder{ops: make(map[string]*opStats)} }

func (r *Recorder) stats(op string) *opStats {
	s := r.ops[op]
	if s == nil {
		s = &opStats{errors: make(map[string]uint64)}
		r.ops[op] = s
	}
	return s
}

// Record adds one request of kind op. class is "" for a success, else the
// error class ("http_429", "inactive", "transport", ...).
func (r *Recorder) Record(op string, d time.Duration, class string) {
	if !r.on {
		return
	}
	s := r.stats(op)
	s.hist.Record(d)
	if class == "" {
		s.ok++
	} else {
		s.errors[class]++
	}
}

// Observe records a call: a success when its status is want and check (if
// any) accepts the body; otherwise the class of failure. It returns whether
// the call succeeded. Calls cut off by the end of the run are not recorded.
func (r *Recorder) Observe(ctx context.Context, op string, c call, want int, check func([]byte) string) bool {
	switch {
	case c.err != nil && canceled(ctx, c.err):
		return false
	case c.err != nil:
		r.Record(op, c.elapsed, "transport")
		return false
	case c.status != want:
		r.Record(op, c.elapsed, "http_"+strconv.Itoa(c.status))
		return false
	}
	if check != nil {
		if class := check(c.body); class != "" {
			r.Record(op, c.elapsed, class)
			return false
		}
	}
	r.Record(op, c.elapsed, "")
	return true
}

// RunConfig bounds one concurrency level.
type RunConfig struct {
	// Concurrency is the number of workers, each with one request in flight.
	Concurrency int
	// Duration is the measured time; workers start no step after it. The
	// run is cut off hard at Duration + Timeout.
	Duration time.Duration
	// MaxSteps bounds the number of steps over all workers (warm-up included).
	MaxSteps int64
	// Warmup runs the same load unmeasured before the measured Duration.
	Warmup time.Duration
	// Timeout is the hard limit on a single request.
	Timeout time.Duration
	// OnMeasure, when set, is called once when the measured part begins
	// (after the warm-up); run returns only after it has returned.
	OnMeasure func()
}

// LevelStats is the merged outcome of one concurrency level.
type LevelStats struct {
	Concurrency int
	Elapsed     time.Duration
	Ops         map[string]*opStats
	Total       opStats
	Stopped     string // "duration", "max_requests", "exhausted" or "canceled"
}

// run drives sc at cfg.Concurrency until the duration passes, the step
// budget runs out, every worker is exhausted, or ctx ends.
func run(ctx context.Context, sc Scenario, cfg RunConfig) (*LevelStats, error) {
	if cfg.Concurrency < 1 {
		return nil, fmt.Errorf("loadgen: concurrency %d < 1", cfg.Concurrency)
	}
	hard, cancel := context.WithTimeout(ctx, cfg.Warmup+cfg.Duration+cfg.Timeout)
	defer cancel()

	var (
		budget    atomic.Int64
		measuring atomic.Bool
		exhausted atomic.Int64
		wg        sync.WaitGroup
	)
	budget.Store(cfg.MaxSteps)
	recs := make([]*Recorder, cfg.Concurrency)
	if cfg.OnMeasure != nil {
		if cfg.Warmup <= 0 {
			cfg.OnMeasure()
		} else {
			fired := make(chan struct{})
			t := time.AfterFunc(cfg.Warmup, func() { cfg.OnMeasure(); close(fired) })
			defer func() {
				if !t.Stop() {
					<-fired
				}
			}()
		}
	}
	begin := time.Now()
	measureFrom := begin.Add(cfg.Warmup)
	stopAt := measureFrom.Add(cfg.Duration)
	for w := range recs {
		rec := newRecorder()
		recs[w] = rec
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for hard.Err() == nil {
				now := time.Now()
				if !now.Before(stopAt) {
					return
				}
				if !rec.on && !now.Before(measureFrom) {
					rec.on = true
					measuring.Store(true)
				}
				if budget.Add(-1) < 0 {
					return
				}
				if !sc.Step(hard, w, rec) {
					exhausted.Add(1)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	end := time.Now()

	st := &LevelStats{Concurrency: cfg.Concurrency, Ops: make(map[string]*opStats)}
	st.Total.errors = make(map[string]uint64)
	switch {
	case ctx.Err() != nil:
		st.Stopped = "canceled"
	case exhausted.Load() == int64(cfg.Concurrency):
		st.Stopped = "exhausted"
	case budget.Load() < 0 && end.Before(stopAt):
		st.Stopped = "max_requests"
	default:
		st.Stopped = "duration"
	}
	start := measureFrom
	if begin.After(start) {
		start = begin
	}
	st.Elapsed = end.Sub(start)
	if !measuring.Load() || st.Elapsed < 0 {
		st.Elapsed = 0
	}
	for _, rec := range recs {
		for name, s := range rec.ops {
			m := st.Ops[name]
			if m == nil {
				m = &opStats{errors: make(map[string]uint64)}
				st.Ops[name] = m
			}
			m.merge(s)
			st.Total.merge(s)
		}
	}
	return st, nil
}

func (o *opStats) merge(s *opStats) {
	o.hist.Merge(&s.hist)
	o.ok += s.ok
	for k, v := range s.errors {
		o.errors[k] += v
	}
}

func (o *opStats) count() uint64 { return o.hist.Count() }

func (o *opStats) errorCount() uint64 {
	var n uint64
	for _, v := range o.errors {
		n += v
	}
	return n
}

// opNames returns the operation names sorted for stable output.
func (st *LevelStats) opNames() []string {
	names := make([]string, 0, len(st.Ops))
	for n := range st.Ops {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
