package httpapi

import (
	"os"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		live, stacks, globals uint64
		want                  int
	}{
		{0, 0, 0, 100},                  // nothing measured yet: Go's default
		{mb / 2, 0, 0, gcMaxPercent},    // tiny heaps are capped
		{1 * mb, 0, 0, 2300},            // goal 1 + 1*23 = 24 MB
		{1 * mb, mb / 2, mb / 2, 1150},  // goal 1 + 2*11.5 = 24 MB: stacks and globals count
		{4 * mb, 0, 0, 500},             // goal 4 + 4*5 = 24 MB
		{8 * mb, 0, 0, 200},             // goal 8 + 8*2 = 24 MB
		{11 * mb, 0, 0, 118},            // goal 11 + 11*1.18 = 24 MB
		{11 * mb, 2 * mb, 0, 100},       // never below Go's default
		{12 * mb, 0, 0, 100},            // half the floor and up: Go's default
		{3 << 30, 64 * mb, 4 * mb, 100}, // a large heap is never multiplied
		{gcHeapFloor - 1, 0, 0, 100},    // just under the floor
	} {
		if got := gcPercentFor(tc.live, tc.stacks, tc.globals); got != tc.want {
			t.Errorf("gcPercentFor(%d, %d, %d MB) = %d, want %d", tc.live>>20, tc.stacks>>20, tc.globals>>20, got, tc.want)
		}
	}
}

// The floor follows the live heap: after a collection with little live
// data the target is raised, and GOGC set in the environment (checked by
// init, not here) would leave it alone.
func TestGCFloorRetunesAfterCollections(t *testing.T) {
	if _, set := os.LookupEnv("GOGC"); set {
		t.Skip("GOGC is set in the environment: the floor is off")
	}
	startGCFloor() // idempotent: init already started it
	for deadline := time.Now().Add(5 * time.Second); ; {
		runtime.GC()
		runtime.GC() // the finalizer of the first cycle runs after it
		s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/heap/live:bytes"}, {Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		g, live, p := s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
		switch {
		case live >= gcHeapFloor/2 && p == 100:
			// Earlier tests left a large heap: Go's own pacing is right.
			return
		case live < gcHeapFloor/2 && p > 100 && g > gcHeapFloor*9/10 && g < gcHeapFloor*11/10:
			// The goal sits on the floor (within the pacer's rounding),
			// not above it: resident memory follows the goal.
			return
		case time.Now().After(deadline):
			t.Fatalf("live heap %.1f MB: GOGC %d, heap goal %.1f MB; want the goal at %d MB (or GOGC 100 above %d MB live)",
				float64(live)/(1<<20), p, float64(g)/(1<<20), gcHeapFloor>>20, gcHeapFloor>>21)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
