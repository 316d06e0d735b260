package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports (the kernel ABI fixes it,
// whatever CONFIG_HZ is), so it is not read with sysconf (which needs cgo).
const clockTick = 10 * time.Millisecond

// cpuSnap is the CPU time consumed so far by the generator itself and by
// the target process (when a pid is given).
type cpuSnap struct {
	gen     time.Duration
	target  time.Duration
	hasTgt  bool
	busy    time.Duration // the whole machine's non-idle time (/proc/stat), all CPUs
	hasBusy bool
}

// machineBusy returns the non-idle CPU time of the whole machine since boot,
// summed over its CPUs, from the "cpu" line of /proc/stat: everything but
// idle and iowait (guest time is already inside user and nice).
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStatBusy(b)
}

func parseProcStatBusy(b []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("loadgen: malformed /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		if i >= 8 { // guest and guest_nice are counted in user and nice
			break
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadgen: malformed /proc/stat")
		}
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		busy += n
	}
	return time.Duration(busy) * clockTick, nil
}

// selfCPU returns the user+system CPU time of this process.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU returns utime+stime of pid from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads fields 14 and 15 (utime, stime) of a /proc/PID/stat
// line. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted after its last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadgen: malformed /proc stat")
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("loadgen: malformed /proc stat")
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("loadgen: malformed /proc stat")
	}
	return time.Duration(ut+st) * clockTick, nil
}

func takeCPU(pid int) cpuSnap {
	s := cpuSnap{gen: selfCPU()}
	if b, err := machineBusy(); err == nil {
		s.busy, s.hasBusy = b, true
	}
	if pid > 0 {
		if t, err := procCPU(pid); err == nil {
			s.target, s.hasTgt = t, true
		}
	}
	return s
}
