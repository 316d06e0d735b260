package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want memInfo
		ok   bool
	}{
		{"typical", "Name:\tsessiond\nVmPeak:\t 1000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   18000 kB\nThreads:\t9\n", memInfo{RSSKiB: 18000, HWMKiB: 20480}, true},
		{"kernel thread", "Name:\tkthreadd\nThreads:\t1\n", memInfo{}, false},
		{"bad unit", "VmHWM:\t1 MB\nVmRSS:\t1 kB\n", memInfo{}, false},
		{"bad number", "VmHWM:\tx kB\nVmRSS:\t1 kB\n", memInfo{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseStatus = %+v, %v; want %+v ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

// TestSamplerSeesOwnGrowth samples this test process while it touches 32 MiB:
// the peak must rise by most of it, and never exceed the lifetime peak.
func TestSamplerSeesOwnGrowth(t *testing.T) {
	before, err := readMem(os.Getpid())
	if err != nil {
		t.Fatalf("readMem(self): %v", err)
	}
	s := startRSSSampler(os.Getpid(), 5*time.Millisecond)
	buf := make([]byte, 32<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	time.Sleep(30 * time.Millisecond) // let the sampler tick at least once more
	peak, hwm, err := s.Stop()
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if buf[len(buf)-4096] != 1 { // keep buf alive until after sampling
		t.Fatal("buffer lost")
	}
	if grew := peak - before.RSSKiB; grew < 24<<10 {
		t.Fatalf("peak %d KiB is only %d KiB above the start (%d KiB)", peak, grew, before.RSSKiB)
	}
	if peak > hwm {
		t.Fatalf("peak %d KiB above VmHWM %d KiB", peak, hwm)
	}
}

func TestReadMemMissingPid(t *testing.T) {
	t.Parallel()
	if _, err := readMem(1 << 30); err == nil {
		t.Fatal("readMem of a pid that cannot exist succeeded")
	}
}
