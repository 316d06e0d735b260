package httpapi

import (
	"net/http"
	"strconv"
)

var healthEndpoint = endpoint{methods: []string{http.MethodGet}, health: true}

// healthResponse is the body of /api/health. When degraded it also carries
// SPEC's error fields, so it is a well-formed error answer too.
type healthResponse struct {
	Status      string `json:"status"`
	KV          string `json:"kv"`
	Error       string `json:"error,omitempty"`
	Description string `json:"error_description,omitempty"`
}

// Health serves GET /api/health: 200 when the KV store answers a PING within
// the health budget (2s), 503 otherwise. It never waits longer than that,
// so a load balancer or uptime check gets an answer even with the store
// gone.
func (a *App) Health(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, healthEndpoint, func(c *call) error {
		if err := c.st.m.Ping(c.ctx); err != nil {
			a.logger().Warn("httpapi: health: store does not answer", "err", err.Error())
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(unavailableRetry)))
			writeJSON(w, http.StatusServiceUnavailable, healthResponse{Status: "degraded", KV: "unavailable",
				Error: CodeUnavailable, Description: "the session store does not answer"})
			return nil
		}
		writeJSON(w, http.StatusOK, healthResponse{Status: "ok", KV: "ok"})
		return nil
	})
}
