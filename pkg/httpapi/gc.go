package httpapi

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The collector's pacing. Go's default (GOGC=100) lets the heap grow to
// twice the live data before the next collection, but never below 4 MB.
// The service's live heap is small (1-10 MB under load: configuration,
// keys, the verified-signature cache, the requests in flight) while every
// request allocates a few kilobytes that die with it, so under load a
// collection started every 20 ms or so (GODEBUG=gctrace=1: 28 a second at
// 11,000 introspections a second), each with its stop-the-world phases and
// a mark phase that takes a quarter of the processors.
//
// So the service keeps a heap floor instead: after each collection it sets
// GOGC so that the heap goal is gcHeapFloor, or Go's own goal when that is
// more (GOGC=100, never less). A small heap is collected several times less
// often, for at most gcHeapFloor of memory, and a large one (the embedded
// store of cmd/sessiond holds every session in the process) is paced
// exactly as Go would; a fixed GOGC above 100 would multiply it instead (GOGC=400 took a
// load test's embedded store from 2.9 to 8.4 GB). Alternated runs:
// docs/performance.md, "Third round". Setting GOGC in the environment turns
// this off and leaves Go's pacing to it.
const (
	gcHeapFloor  = 24 << 20
	gcMaxPercent = 2400 // the floor for a live heap down to 1 MB
)

func init() {
	if _, set := os.LookupEnv("GOGC"); !set {
		startGCFloor()
	}
}

// gcPercentFor is the GOGC that puts the heap goal at gcHeapFloor, within
// [100, gcMaxPercent], given the last cycle's live heap and the stacks and
// globals it scanned. Go's pacer sets the goal to
//
//	live + (live + stacks + globals) * GOGC/100
//
// so the stacks and globals count too: with a 1 MB heap they are of the
// same order, and leaving them out put the goal (and the resident memory)
// at twice the floor.
func gcPercentFor(live, stacks, globals uint64) int {
	if live == 0 || live >= gcHeapFloor/2 {
		return 100
	}
	return min(gcMaxPercent, max(100, int((gcHeapFloor-live)*100/(live+stacks+globals))))
}

var gcFloorOnce sync.Once

// startGCFloor sets the target now and again after every collection: an
// object with a finalizer is found unreachable by each cycle, and its
// finalizer (run after the cycle) sets the next target and arms a new one.
func startGCFloor() {
	gcFloorOnce.Do(func() {
		sample := []metrics.Sample{
			{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"},
		}
		goal := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
		value := func(i int) uint64 {
			if sample[i].Value.Kind() == metrics.KindUint64 {
				return sample[i].Value.Uint64()
			}
			return 0
		}
		last := -1
		var arm func()
		retune := func() {
			metrics.Read(sample)
			live := value(0)
			p := gcPercentFor(live, value(1), value(2))
			if p != last {
				debug.SetGCPercent(p)
				last = p
			}
			// The runtime's own goal for that percentage says what the
			// pacer really scales (its stacks and globals may differ from
			// the metrics'): one correction puts the goal on the floor.
			metrics.Read(goal)
			if p <= 100 || goal[0].Value.Kind() != metrics.KindUint64 {
				return
			}
			if g := goal[0].Value.Uint64(); g > live {
				q := min(gcMaxPercent, max(100, int(uint64(p)*(gcHeapFloor-live)/(g-live))))
				if q != p {
					debug.SetGCPercent(q)
					last = q
				}
			}
		}
		arm = func() {
			runtime.SetFinalizer(new(gcCycle), func(*gcCycle) {
				retune()
				arm()
			})
		}
		retune()
		arm()
	})
}

// gcCycle is the object whose finalizer runs once per collection. It must
// be at least 16 bytes: smaller objects without pointers go to the tiny
// allocator, whose shared blocks may outlive them (and their finalizers
// then never run).
type gcCycle struct{ _ [16]byte }
