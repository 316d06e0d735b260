package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the nearest-rank definition Histogram approximates.
func exactQuantile(sorted []int64, q float64) int64 {
	if q <= 0 {
		return sorted[0]
	}
	if q >= 1 {
		return sorted[len(sorted)-1]
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func TestBucketLayout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v        int64
		bucket   int
		highest  int64
		describe string
	}{
		{0, 0, 0, "zero is exact"},
		{1, 1, 1, "small values are exact"},
		{255, 255, 255, "last exact bucket"},
		{256, 256, 257, "first shared bucket spans two values"},
		{257, 256, 257, "neighbour shares it"},
		{511, 383, 511, "top of the first log range"},
		{512, 384, 515, "next power of two doubles the width"},
		{-5, 0, 0, "negative counts as zero"},
	}
	for _, tt := range tests {
		t.Run(tt.describe, func(t *testing.T) {
			if got := bucketOf(tt.v); got != tt.bucket {
				t.Fatalf("bucketOf(%d) = %d, want %d", tt.v, got, tt.bucket)
			}
			if got := bucketHigh(tt.bucket); got != tt.highest {
				t.Fatalf("bucketHigh(%d) = %d, want %d", tt.bucket, got, tt.highest)
			}
		})
	}
}

// TestBucketsAreContiguous walks bucket boundaries across the whole int64
// range: every bucket starts right after the previous one ends and holds
// its own boundaries.
func TestBucketsAreContiguous(t *testing.T) {
	t.Parallel()
	last := bucketOf(1<<62 + 12345)
	for i := 1; i <= last; i++ {
		lo := bucketHigh(i-1) + 1
		hi := bucketHigh(i)
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d: [%d, %d] maps to %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if width := hi - lo + 1; lo >= 2*subCount && float64(width) > float64(lo)/subCount+1 {
			t.Fatalf("bucket %d too wide: %d for values from %d", i, width, lo)
		}
	}
}

func TestQuantileMatchesSortedSamples(t *testing.T) {
	t.Parallel()
	dists := map[string]func(r *rand.Rand) int64{
		"uniform-us":  func(r *rand.Rand) int64 { return r.Int64N(1_000_000) },
		"lognormal":   func(r *rand.Rand) int64 { return int64(200_000 * (1 + r.ExpFloat64()*r.ExpFloat64()*20)) },
		"tiny":        func(r *rand.Rand) int64 { return r.Int64N(300) },
		"bimodal-big": func(r *rand.Rand) int64 { return []int64{50_000, 3_000_000_000}[r.IntN(2)] + r.Int64N(1000) },
	}
	qs := []float64{0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, uint64(len(name))))
			for _, n := range []int{1, 2, 7, 1000, 54321} {
				var h Histogram
				vals := make([]int64, n)
				for i := range vals {
					vals[i] = gen(r)
					h.Record(time.Duration(vals[i]))
				}
				slices.Sort(vals)
				for _, q := range qs {
					exact := exactQuantile(vals, q)
					got := int64(h.Quantile(q))
					if got < exact || float64(got-exact) > float64(exact)/subCount {
						t.Errorf("n=%d q=%v: got %d, exact %d (allowed up to +%.0f)", n, q, got, exact, float64(exact)/subCount)
					}
				}
				if h.Count() != uint64(n) || int64(h.Min()) != vals[0] || int64(h.Max()) != vals[n-1] {
					t.Errorf("n=%d: count/min/max = %d/%d/%d, want %d/%d/%d", n, h.Count(), h.Min(), h.Max(), n, vals[0], vals[n-1])
				}
			}
		})
	}
}

func TestMergeEqualsSingle(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 9))
	var whole Histogram
	parts := make([]Histogram, 5)
	for i := 0; i < 20000; i++ {
		v := time.Duration(r.Int64N(50_000_000))
		whole.Record(v)
		parts[i%len(parts)].Record(v)
	}
	var merged Histogram
	merged.Merge(&Histogram{}) // merging an empty one is a no-op
	for i := range parts {
		merged.Merge(&parts[i])
	}
	for _, q := range []float64{0, 0.5, 0.99, 0.999, 1} {
		if a, b := whole.Quantile(q), merged.Quantile(q); a != b {
			t.Errorf("q=%v: whole %v, merged %v", q, a, b)
		}
	}
	if whole.Count() != merged.Count() || whole.Mean() != merged.Mean() {
		t.Errorf("count/mean: whole %d/%v merged %d/%v", whole.Count(), whole.Mean(), merged.Count(), merged.Mean())
	}
}

func TestEmptyHistogram(t *testing.T) {
	t.Parallel()
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Max() != 0 || h.Count() != 0 {
		t.Fatalf("empty histogram reported %v %v %v %d", h.Quantile(0.5), h.Mean(), h.Max(), h.Count())
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	d := 1234567 * time.Nanosecond
	for i := 0; b.Loop(); i++ {
		h.Record(d + time.Duration(i&1023))
	}
}
