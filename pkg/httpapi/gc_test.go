package httpapi

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 100},                  // nothing measured yet: Go's default
		{512 << 10, gcMaxPercent}, // tiny heaps are capped
		{1 << 20, 2300},           // 1 MB may grow to 24 MB
		{4 << 20, 500},            // 4 MB to 24 MB
		{8 << 20, 200},            // 8 MB to 24 MB
		{11 << 20, 118},           // 11 MB to 24 MB
		{12 << 20, 100},           // half the floor and up: Go's default
		{3 << 30, 100},            // a large heap is never multiplied
		{gcHeapFloor - 1, 100},    // just under the floor
	} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("gcPercentFor(%d MB) = %d, want %d", tc.live>>20, got, tc.want)
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
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		if p > 100 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still %d after collections with a small live heap", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
