package httpapi

import (
	"os"
	"runtime/debug"
)

// DefaultGCPercent is the garbage collector's target (GOGC) the service runs
// with when the environment does not set GOGC.
//
// Why not Go's default of 100: the service's live heap is small (1-8 MB
// under load: configuration, keys, the verified-signature cache, the
// requests in flight), and every request allocates a few kilobytes that die
// with it. With GOGC=100 the heap target stays near Go's 4 MB minimum, so
// under load a collection starts every 20 ms or so (GODEBUG=gctrace=1: 28
// a second at 11,000 introspections a second), each with its stop-the-world
// phases and a mark phase that takes a quarter of the processors. At 400
// the heap may grow to five times the live data (tens of megabytes, on
// functions that have 1-2 GB), collections are four times rarer, and a
// request costs 5-15 % less CPU (docs/performance.md, "Third round"): on
// Vercel, where active CPU time is what is billed, that is the cheaper
// trade. Setting GOGC (or GOGC=off with GOMEMLIMIT) in the environment
// overrides it.
const DefaultGCPercent = 400

func init() { tuneGC(os.LookupEnv) }

// tuneGC applies DefaultGCPercent unless GOGC is set, and reports whether
// it did.
func tuneGC(lookup func(string) (string, bool)) bool {
	if _, set := lookup("GOGC"); set {
		return false
	}
	debug.SetGCPercent(DefaultGCPercent)
	return true
}
