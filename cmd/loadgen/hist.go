package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power of two is split into
// 1<<subBits linear sub-buckets, so a recorded value is known to within
// 1/128 (< 0.8 %) of itself, at any magnitude. This is the layout of an HDR
// histogram with two significant decimal digits, without its dependency.
const (
	subBits  = 7
	subCount = 1 << subBits
)

// Histogram records latencies in nanoseconds in log-linear buckets.
//
// Values below 2*subCount land in exact buckets; above, a bucket covers
// [m<<s, (m+1)<<s) for m in [subCount, 2*subCount). Quantiles report the
// highest value of the bucket holding the requested rank, clamped to the
// observed minimum and maximum: never below the exact nearest-rank value and
// at most 1/128 above it.
//
// A Histogram is not safe for concurrent use: each worker owns one and the
// runner merges them when the workers have stopped.
type Histogram struct {
	counts []uint64
	n      uint64
	sum    float64
	min    int64
	max    int64
}

// bucketOf returns the bucket index holding v (negative values count as 0).
func bucketOf(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < 2*subCount {
		return int(u)
	}
	shift := bits.Len64(u) - (subBits + 1)
	return 2*subCount + (shift-1)*subCount + int(u>>uint(shift)) - subCount
}

// bucketHigh returns the highest value that falls into bucket i.
func bucketHigh(i int) int64 {
	if i < 2*subCount {
		return int64(i)
	}
	j := i - 2*subCount
	shift := uint(j/subCount + 1)
	m := uint64(j%subCount + subCount)
	h := (m+1)<<shift - 1
	if h > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(h)
}

// Record adds one observation.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	i := bucketOf(v)
	if i >= len(h.counts) {
		grown := make([]uint64, i+1+subCount)
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[i]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// Merge adds every observation of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		grown := make([]uint64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.n }

// Min returns the smallest observation, 0 when empty.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max returns the largest observation, 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the arithmetic mean, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Quantile returns the nearest-rank q-quantile (q in [0, 1]; 0.99 is p99)
// with the bucket precision described on Histogram; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 || math.IsNaN(q) {
		return time.Duration(h.min)
	}
	if q >= 1 {
		return time.Duration(h.max)
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			v := bucketHigh(i)
			if v > h.max {
				v = h.max
			}
			if v < h.min {
				v = h.min
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
