package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"4164 (cat) R 4161 4161 7853 0 -1 4194304 121 0 0 0 250 17 0 0 20 0 1", 267 * clockTick, true},
		{"99 (we ird) name)) S 1 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1", 7 * clockTick, true},
		{"12 (x) S 1 2", 0, false},
		{"no parens", 0, false},
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 a 4 0 0", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatCPU([]byte(tt.in))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStatCPU(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCPUAdvances(t *testing.T) {
	a := takeCPU(os.Getpid())
	end := time.Now().Add(60 * time.Millisecond)
	x := 0
	for time.Now().Before(end) {
		x++
	}
	b := takeCPU(os.Getpid())
	if !b.hasTgt || b.gen <= a.gen || b.target < a.target+clockTick || x == 0 {
		t.Fatalf("cpu did not advance: %+v -> %+v", a, b)
	}
}

func TestParseProcStatBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	b := []byte("cpu  100 5 50 1000 20 3 2 7 40 1\ncpu0 50 2 25 500 10 1 1 3 20 0\nintr 1 2 3\n")
	got, err := parseProcStatBusy(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Duration(100+5+50+3+2+7) * clockTick; got != want {
		t.Fatalf("busy = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "intr 1 2\n", "cpu 1 2 x 4 5\n", "cpu 1 2\n"} {
		if _, err := parseProcStatBusy([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := machineBusy(); err != nil {
		t.Logf("no /proc/stat here: %v", err)
	}
}
