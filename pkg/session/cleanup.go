package session

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
)

// CleanupResult is what one cron run did.
type CleanupResult struct {
	AuditPruned   int   `json:"audit_pruned"`   // audit events removed past retention
	IndexPruned   int   `json:"index_pruned"`   // per-user index entries of ended or vanished sessions
	SessionsEnded int   `json:"sessions_ended"` // sessions past their deadline ended (with their expiry event)
	DurationMS    int64 `json:"duration_ms"`    // wall time of the run
	Complete      bool  `json:"complete"`       // false when the time budget ran out first
}

type cleanupArgs struct {
	base
	UKs []string       `json:"uks,omitempty"`
	Lim int            `json:"lim"`
	Fin map[string]any `json:"fin,omitempty"`
}

// cleanupBatch is how many keys one SCAN step and one script take: small
// enough that no single script holds the store for long.
const cleanupBatch = 200

// Cleanup is the cron's work (SPEC /api/cron/cleanup): end the sessions
// past their deadline that nobody touched since (writing their expiry
// events), prune per-user index entries of ended or vanished sessions, and
// trim audit streams past AuditRetention. It works in bounded batches
// (SCAN, then one script per batch) until done or until ctx's deadline
// (default budget 8s). Every step is idempotent, so two runs at once, or a
// run cut off halfway, leave the store consistent.
func (m *Manager) Cleanup(ctx context.Context) (*CleanupResult, error) {
	start := time.Now()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 8*time.Second)
		defer cancel()
	}
	now := m.cfg.Now()
	res := &CleanupResult{}
	out := func(err error) (*CleanupResult, error) {
		res.DurationMS = time.Since(start).Milliseconds()
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return res, nil // budget spent: report what was done
		}
		return res, err
	}

	// 1. Sessions past their deadline, from the live set, in batches.
	for ctx.Err() == nil {
		reply, err := m.run(ctx, scriptCleanup, cleanupArgs{base: m.base(now, Client{}, "cron", rules{}), Lim: cleanupBatch})
		if err != nil {
			return out(err)
		}
		res.SessionsEnded += int(num(reply, 2))
		if num(reply, 3) < cleanupBatch {
			break // the live set holds no more entries past their deadline
		}
	}

	// 2. Per-user indexes.
	err := m.scan(ctx, m.cfg.KeyPrefix+"u:*", func(keys []string) error {
		reply, err := m.run(ctx, scriptCleanup, cleanupArgs{base: m.base(now, Client{}, "cron", rules{}), UKs: keys})
		if err != nil {
			return err
		}
		res.IndexPruned += int(num(reply, 1))
		return nil
	})
	if err != nil {
		return out(err)
	}

	// 3. Audit streams: XTRIM MINID is idempotent and needs no script.
	minID := strconv.FormatInt(now.Add(-m.cfg.AuditRetention).UnixMilli(), 10)
	trim := func(keys []string) error {
		cmds := make([][]any, len(keys))
		for i, k := range keys {
			cmds[i] = []any{"XTRIM", k, "MINID", minID}
		}
		rs, err := m.kv.Pipeline(ctx, cmds...)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if n, ok := r.Val.(int64); ok && r.Err == nil {
				res.AuditPruned += int(n)
			}
		}
		return nil
	}
	if err := trim([]string{m.cfg.KeyPrefix + "a"}); err != nil {
		return out(err)
	}
	for _, pattern := range []string{"a:u:*", "a:s:*"} {
		if err := m.scan(ctx, m.cfg.KeyPrefix+pattern, trim); err != nil {
			return out(err)
		}
	}
	res.Complete = true
	res.DurationMS = time.Since(start).Milliseconds()
	_, err = m.run(ctx, scriptCleanup, cleanupArgs{base: m.base(now, Client{}, "cron", rules{}), Fin: map[string]any{
		"audit_pruned": res.AuditPruned, "index_pruned": res.IndexPruned,
		"sessions_ended": res.SessionsEnded, "duration_ms": res.DurationMS,
	}})
	return out(err)
}

// scan walks the keys matching pattern in SCAN batches, calling fn with
// each non-empty batch, until the cursor comes back to 0.
func (m *Manager) scan(ctx context.Context, pattern string, fn func([]string) error) error {
	cursor := "0"
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := m.kv.Do(ctx, "SCAN", cursor, "MATCH", pattern, "COUNT", cleanupBatch)
		if err != nil && !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		r, _ := v.([]any)
		if len(r) != 2 {
			return errors.New("session: unexpected SCAN reply")
		}
		cursor = str(r, 0)
		arr, _ := r[1].([]any)
		keys := make([]string, 0, len(arr))
		for _, k := range arr {
			if s, ok := k.(string); ok {
				keys = append(keys, s)
			}
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if cursor == "0" {
			return nil
		}
	}
}
