package httpapi

import (
	"context"
	"net/http"
	"time"
)

var cleanupEndpoint = endpoint{methods: []string{http.MethodGet}}

// cleanupReserve is kept back from the request budget for writing the
// answer: the cleanup stops its batches this long before the deadline.
const cleanupReserve = time.Second

// Cleanup serves GET /api/cron/cleanup, called daily by Vercel Cron with
// Authorization: Bearer $CRON_SECRET. It prunes audit events past retention
// and index entries of expired sessions in bounded batches until its budget
// runs out; running it twice at once, or cutting it off, is safe.
func (a *App) Cleanup(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, cleanupEndpoint, func(c *call) error {
		if _, err := c.requireKey("CRON_SECRET", c.st.cronKey); err != nil {
			return err
		}
		ctx := c.ctx
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-cleanupReserve))
			defer cancel()
		}
		res, err := c.st.m.Cleanup(ctx)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	})
}
