package session

import (
	"testing"
	"time"
)

func TestHistoryBounded(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		is := e.create(t, "hist")
		rt := is.RefreshToken
		for i := 0; i < historyLen+5; i++ {
			e.clk.Add(10 * time.Second) // stay under the cadence signal
			r, err := e.refresh(rt)
			if err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
			rt = r.RefreshToken
		}
		h, err := e.History(e.ctx, is.Session.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != historyLen {
			t.Fatalf("history has %d records, want %d", len(h), historyLen)
		}
		if h[0].ToGen != uint32(historyLen+5) || h[0].FromGen != h[0].ToGen-1 || h[0].IP != "203.0.113.7" || h[0].Upstream {
			t.Fatalf("newest record = %+v", h[0])
		}
		if !h[0].Time.After(h[1].Time) {
			t.Fatal("not newest first")
		}
		if h, _ := e.History(e.ctx, "00000000-0000-7000-8000-000000000000"); len(h) != 0 {
			t.Fatal("unknown session has history")
		}
	})
}
