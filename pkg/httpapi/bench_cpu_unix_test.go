//go:build unix

package httpapi_test

import (
	"syscall"
	"time"
)

// processCPU is the processor time (user + system) this process has used:
// the handler benchmarks report it per request (cpu-ns/op), the part of the
// cost that does not depend on how long the store takes to answer.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
