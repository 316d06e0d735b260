package session

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestIdleExpiryInjectedClock(t *testing.T) {
	eachStore(t, func(c *Config) { c.IdleTimeout = time.Hour }, func(t *testing.T, e *env) {
		is := e.create(t, "idle-user")
		e.clk.Add(59 * time.Minute)
		r, err := e.refresh(is.RefreshToken)
		if err != nil {
			t.Fatalf("refresh inside idle timeout: %v", err)
		}
		// The refresh slid the idle deadline: another 59 minutes is fine.
		e.clk.Add(59 * time.Minute)
		r2, err := e.refresh(r.RefreshToken)
		if err != nil {
			t.Fatalf("refresh after slide: %v", err)
		}
		// Introspection does not slide the deadline.
		e.clk.Add(30 * time.Minute)
		e.active(t, r2.RefreshToken)
		e.clk.Add(31 * time.Minute)
		if _, err := e.refresh(r2.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("refresh after idle timeout: %v", err)
		}
		if st := e.state(t, is.Session.ID); st != StateIdle {
			t.Fatalf("state = %q, want idle", st)
		}
		if !slices.Contains(e.actions(t, is.Session.ID), "session.idle_expired") {
			t.Fatal("no session.idle_expired event")
		}
	})
}

func TestAbsoluteExpiryInjectedClock(t *testing.T) {
	eachStore(t, func(c *Config) { c.IdleTimeout = time.Hour; c.AbsoluteTimeout = 3 * time.Hour }, func(t *testing.T, e *env) {
		is := e.create(t, "abs-user")
		rt := is.RefreshToken
		for i := 0; i < 5; i++ {
			e.clk.Add(50 * time.Minute)
			r, err := e.refresh(rt)
			if i < 3 && err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
			if i == 3 { // 200 minutes > 3h
				if !errors.Is(err, ErrInvalidGrant) {
					t.Fatalf("refresh past absolute timeout: %v", err)
				}
				break
			}
			// The idle deadline never passes the absolute one.
			if r.Session.ExpiresAt.After(is.Session.AbsoluteExpiry) {
				t.Fatalf("expires_at %v after absolute %v", r.Session.ExpiresAt, is.Session.AbsoluteExpiry)
			}
			rt = r.RefreshToken
		}
		if st := e.state(t, is.Session.ID); st != StateExpired {
			t.Fatalf("state = %q, want expired", st)
		}
		if !slices.Contains(e.actions(t, is.Session.ID), "session.absolute_expired") {
			t.Fatal("no session.absolute_expired event")
		}
	})
}

// The store's own TTLs remove an abandoned session: no reader, no cron.
func TestExpiryRealTTL(t *testing.T) {
	eachStore(t, func(c *Config) {
		c.IdleTimeout = 2 * time.Second
		c.TombstoneTTL = time.Second
	}, func(t *testing.T, e *env) {
		is := e.create(t, "ttl-user")
		key := e.cfg.KeyPrefix + "s:" + is.Session.ID
		v, err := e.tr.Client.Do(e.ctx, "PTTL", key)
		if err != nil {
			t.Fatal(err)
		}
		if ttl, _ := v.(int64); ttl <= 0 || ttl > 3000 {
			t.Fatalf("session key PTTL = %v, want in (0, 3000] ms", v)
		}
		if e.tr.Mini != nil {
			e.tr.Mini.FastForward(3100 * time.Millisecond)
		} else {
			time.Sleep(3100 * time.Millisecond) // real Redis: let its TTL run
		}
		if _, err := e.tr.Client.Do(e.ctx, "EXISTS", key); err != nil {
			t.Fatal(err)
		}
		n, _ := e.tr.Client.Do(e.ctx, "EXISTS", key)
		if n != int64(0) {
			t.Fatalf("session key still exists after its TTL")
		}
		e.clk.Add(3100 * time.Millisecond)
		if _, err := e.refresh(is.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("refresh of vanished session: %v", err)
		}
	})
}

func TestCleanupEndsExpiredAndPrunes(t *testing.T) {
	eachStore(t, func(c *Config) { c.IdleTimeout = time.Hour }, func(t *testing.T, e *env) {
		a := e.create(t, "cron-user")
		b := e.create(t, "cron-user")
		if err := e.End(e.ctx, b.Session.ID, "", Client{}); err != nil {
			t.Fatal(err)
		}
		e.clk.Add(2 * time.Hour)
		res, err := e.Cleanup(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Complete || res.SessionsEnded < 1 {
			t.Fatalf("cleanup = %+v", res)
		}
		if st := e.state(t, a.Session.ID); st != StateIdle {
			t.Fatalf("state after cron = %q, want idle", st)
		}
		if !slices.Contains(e.actions(t, a.Session.ID), "session.idle_expired") {
			t.Fatal("cron wrote no session.idle_expired")
		}
		n, err := e.tr.Client.Do(e.ctx, "ZCARD", e.cfg.KeyPrefix+"u:cron-user")
		if err != nil && n != nil {
			t.Fatal(err)
		}
		if n != nil && n != int64(0) {
			t.Fatalf("user index still holds %v entries", n)
		}
		// Twice is safe.
		if _, err := e.Cleanup(e.ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCleanupPrunesAuditPastRetention(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AuditRetention = 24 * time.Hour })
	is := e.create(t, "audit-user")
	before, _ := e.Audit(e.ctx, AuditQuery{SessionID: is.Session.ID})
	if len(before.Events) == 0 {
		t.Fatal("no events")
	}
	// Stream ids come from the store's clock: move both.
	e.tr.Mini.SetTime(time.Now().Add(48 * time.Hour))
	e.clk.Add(48 * time.Hour)
	res, err := e.Cleanup(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.AuditPruned < len(before.Events) {
		t.Fatalf("audit_pruned = %d, want >= %d", res.AuditPruned, len(before.Events))
	}
	after, _ := e.Audit(e.ctx, AuditQuery{})
	for _, ev := range after.Events {
		if ev.Action != "cron.cleanup" && ev.Action != "session.idle_expired" {
			t.Errorf("event %s survived retention", ev.Action)
		}
	}
}

// More expired sessions than one batch: one run ends them all, batch by batch.
func TestCleanupBatches(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.IdleTimeout = time.Hour; c.MaxPerUser = 1000 })
	const n = 2*cleanupBatch + 50
	for i := 0; i < n; i++ {
		e.create(t, "batch-user-"+itoa(i%7))
	}
	e.clk.Add(2 * time.Hour)
	res, err := e.Cleanup(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.SessionsEnded != n || !res.Complete {
		t.Fatalf("cleanup = %+v, want %d sessions ended", res, n)
	}
	if v, _ := e.tr.Client.Do(e.ctx, "ZCARD", e.cfg.KeyPrefix+"live"); v != int64(0) {
		t.Fatalf("live set still holds %v", v)
	}
}
