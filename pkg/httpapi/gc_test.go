package httpapi

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	if tuneGC(func(k string) (string, bool) { return "50", k == "GOGC" }) {
		t.Fatal("GOGC set in the environment, but tuneGC changed the target")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set: target %d, want 100 (untouched)", got)
	}
	if !tuneGC(func(string) (string, bool) { return "", false }) {
		t.Fatal("GOGC unset, but tuneGC did nothing")
	}
	if got := debug.SetGCPercent(100); got != DefaultGCPercent {
		t.Fatalf("GOGC unset: target %d, want %d", got, DefaultGCPercent)
	}
}
