package httpapi

import (
	"net/http"
	"time"
)

var summaryEndpoint = endpoint{methods: []string{http.MethodGet}}

// Summary window bounds: at least a minute, at most the default audit
// retention (older events are pruned anyway).
const (
	defaultSummaryWindow = 24 * time.Hour
	minSummaryWindow     = time.Minute
	maxSummaryWindow     = 720 * time.Hour
)

// SecuritySummary serves GET /api/security/summary?window=24h (admin):
// counts by audit action, active and suspended sessions, refusals by
// reason, rate-limited keys.
func (a *App) SecuritySummary(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, summaryEndpoint, func(c *call) error {
		if _, err := c.requireKey("the admin key", c.st.adminKey); err != nil {
			return err
		}
		window, err := parseWindow(r.URL.Query()["window"])
		if err != nil {
			return err
		}
		s, err := c.st.m.Summary(c.ctx, window)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s)
		return nil
	})
}

func parseWindow(vals []string) (time.Duration, error) {
	switch {
	case len(vals) == 0 || vals[0] == "":
		return defaultSummaryWindow, nil
	case len(vals) > 1:
		return 0, badRequest("window is repeated")
	}
	d, err := time.ParseDuration(vals[0])
	if err != nil || d < minSummaryWindow || d > maxSummaryWindow {
		return 0, badRequest("window must be a Go duration from %s to %s, e.g. 24h", minSummaryWindow, maxSummaryWindow)
	}
	return d, nil
}
