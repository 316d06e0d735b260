package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// memInfo is the resident memory of a process, in KiB, from
// /proc/PID/status: VmRSS now and VmHWM, the peak since the process began.
type memInfo struct {
	RSSKiB int64
	HWMKiB int64
}

// readMem reads VmRSS and VmHWM of pid.
func readMem(pid int) (memInfo, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memInfo{}, fmt.Errorf("loadgen: pid %d: %w", pid, err)
	}
	return parseStatus(b)
}

// parseStatus extracts VmRSS and VmHWM ("VmRSS:	   12345 kB") from the
// text of a /proc/PID/status file.
func parseStatus(b []byte) (memInfo, error) {
	var m memInfo
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		var dst *int64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst = &m.RSSKiB
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &m.HWMKiB
		default:
			continue
		}
		f := bytes.Fields(line[6:])
		if len(f) != 2 || string(f[1]) != "kB" {
			return memInfo{}, fmt.Errorf("loadgen: unexpected status line %q", line)
		}
		v, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return memInfo{}, fmt.Errorf("loadgen: unexpected status line %q", line)
		}
		*dst = v
		seen++
	}
	if seen != 2 {
		return memInfo{}, fmt.Errorf("loadgen: VmRSS/VmHWM not found (kernel thread or exited process?)")
	}
	return m, nil
}

// rssSampler polls a process's VmRSS during a level, keeping the peak: VmHWM
// alone would include whatever the process did before the level (seeding).
type rssSampler struct {
	pid  int
	stop chan struct{}
	done sync.WaitGroup
	peak int64
	err  error
}

func startRSSSampler(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			m, err := readMem(pid)
			if err != nil {
				s.err = err
				return
			}
			s.peak = max(s.peak, m.RSSKiB)
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak VmRSS seen during the level and
// the process's lifetime VmHWM.
func (s *rssSampler) Stop() (peakKiB, hwmKiB int64, err error) {
	close(s.stop)
	s.done.Wait()
	if s.err != nil {
		return 0, 0, s.err
	}
	m, err := readMem(s.pid)
	if err != nil {
		return 0, 0, err
	}
	return max(s.peak, m.RSSKiB), m.HWMKiB, nil
}
