package session

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPerUserLimitEvictsOldest(t *testing.T) {
	eachStore(t, func(c *Config) { c.MaxPerUser = 3 }, func(t *testing.T, e *env) {
		var ids []string
		var first *Issued
		for i := 0; i < 5; i++ {
			is := e.create(t, "limit-user")
			if i == 0 {
				first = is
			}
			ids = append(ids, is.Session.ID)
			e.clk.Add(time.Millisecond)
		}
		list, err := e.List(e.ctx, "limit-user", "", Client{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range list {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, ids[2:]) {
			t.Fatalf("live = %v, want the 3 newest %v", got, ids[2:])
		}
		if st := e.state(t, ids[0]); st != StateTerminated {
			t.Fatalf("oldest state = %q, want terminated", st)
		}
		if !slices.Contains(e.actions(t, ids[0]), "session.evicted_limit") {
			t.Fatal("no session.evicted_limit event")
		}
		if _, err := e.refresh(first.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("evicted session refresh: %v", err)
		}
		if e.active(t, first.AccessToken) {
			t.Fatal("evicted session's access token active")
		}
	})
}

// Every allowed transition of the state machine, and that ended states
// stay ended.
func TestStateTransitions(t *testing.T) {
	type step func(t *testing.T, e *env, is *Issued) error
	refresh := func(t *testing.T, e *env, is *Issued) error { _, err := e.refresh(is.RefreshToken); return err }
	hijack := func(t *testing.T, e *env, is *Issued) error {
		_, err := e.Refresh(e.ctx, RefreshRequest{RefreshToken: is.RefreshToken, Device: phone(), Client: client("198.51.100.9", firefoxUA)})
		return err
	}
	cases := []struct {
		name  string
		cfg   func(*Config)
		steps []step
		want  State
	}{
		{"active->idle", func(c *Config) { c.IdleTimeout = time.Hour }, []step{
			func(t *testing.T, e *env, is *Issued) error { e.clk.Add(2 * time.Hour); return refresh(t, e, is) }}, StateIdle},
		{"active->expired", func(c *Config) { c.IdleTimeout = time.Hour; c.AbsoluteTimeout = time.Hour }, []step{
			func(t *testing.T, e *env, is *Issued) error { e.clk.Add(2 * time.Hour); return refresh(t, e, is) }}, StateExpired},
		{"active->revoked (logout)", nil, []step{
			func(t *testing.T, e *env, is *Issued) error { return e.Revoke(e.ctx, is.RefreshToken, "", Client{}) }}, StateRevoked},
		{"active->terminated (admin limit)", func(c *Config) { c.MaxPerUser = 1 }, []step{
			func(t *testing.T, e *env, is *Issued) error { e.create(t, is.Session.UserID); return nil }}, StateTerminated},
		{"active->suspended (hijack)", nil, []step{hijack}, StateSuspended},
		{"suspended->active (admin resume)", nil, []step{hijack,
			func(t *testing.T, e *env, is *Issued) error {
				_, err := e.Update(e.ctx, is.Session.ID, "", "", Patch{Resume: true}, Client{})
				return err
			}}, StateActive},
		{"suspended->revoked", nil, []step{hijack,
			func(t *testing.T, e *env, is *Issued) error { return e.End(e.ctx, is.Session.ID, "", Client{}) }}, StateRevoked},
		{"suspended->idle", func(c *Config) { c.IdleTimeout = time.Hour }, []step{hijack,
			func(t *testing.T, e *env, is *Issued) error { e.clk.Add(2 * time.Hour); return refresh(t, e, is) }}, StateIdle},
		{"revoked stays revoked", nil, []step{
			func(t *testing.T, e *env, is *Issued) error { return e.End(e.ctx, is.Session.ID, "", Client{}) },
			func(t *testing.T, e *env, is *Issued) error {
				_, err := e.Update(e.ctx, is.Session.ID, "", "", Patch{Resume: true}, Client{})
				if !errors.Is(err, ErrNotFound) {
					return fmt.Errorf("resume of revoked: %v", err)
				}
				return nil
			}}, StateRevoked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachStore(t, tc.cfg, func(t *testing.T, e *env) {
				is := e.create(t, "fsm-user")
				for _, s := range tc.steps {
					_ = s(t, e, is)
				}
				if got := e.state(t, is.Session.ID); got != tc.want {
					t.Fatalf("state = %q, want %q", got, tc.want)
				}
				if tc.want != StateActive && e.active(t, is.AccessToken) {
					t.Fatal("access token active in a non-active state")
				}
			})
		})
	}
}

func TestSuspendedResumeRules(t *testing.T) {
	e := newEnv(t, nil)
	a := e.create(t, "dana")
	b := e.create(t, "dana")
	_, err := e.Refresh(e.ctx, RefreshRequest{RefreshToken: a.RefreshToken, Device: phone(), Client: client("198.51.100.9", firefoxUA)})
	if !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("hijacked refresh: %v", err)
	}
	if e.state(t, a.Session.ID) != StateSuspended {
		t.Fatal("not suspended")
	}
	// The suspended session cannot vouch for itself.
	if _, err := e.Update(e.ctx, a.Session.ID, "dana", a.Session.ID, Patch{Resume: true}, Client{}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("self-resume: %v, want ErrForbidden", err)
	}
	// Another user cannot see it at all.
	if _, err := e.Update(e.ctx, a.Session.ID, "eve", "", Patch{Resume: true}, Client{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other user resume: %v, want ErrNotFound", err)
	}
	// The user's other, active session can.
	s, err := e.Update(e.ctx, a.Session.ID, "dana", b.Session.ID, Patch{Resume: true}, Client{})
	if err != nil || s.State != StateActive {
		t.Fatalf("resume from other session: %v %+v", err, s)
	}
	// The suspended refresh token was never rotated: it works again from the original device.
	if _, err := e.refresh(a.RefreshToken); err != nil {
		t.Fatalf("refresh after resume: %v", err)
	}
	acts := e.actions(t, a.Session.ID)
	for _, want := range []string{"hijack.suspected", "session.suspended", "session.resumed"} {
		if !slices.Contains(acts, want) {
			t.Errorf("missing %s in %v", want, acts)
		}
	}
}

func TestRevokeAccessTokenAlone(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		is := e.create(t, "frank")
		r, _ := e.refresh(is.RefreshToken)
		if err := e.Revoke(e.ctx, is.AccessToken, "refresh_token", Client{}); err != nil { // wrong hint is ignored
			t.Fatal(err)
		}
		if e.active(t, is.AccessToken) {
			t.Fatal("revoked access token active")
		}
		if !e.active(t, r.AccessToken) || !e.active(t, r.RefreshToken) {
			t.Fatal("revoking one access token touched the rest of the session")
		}
	})
}

func TestRevokeRefreshTokenCascades(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		is := e.create(t, "gina")
		r, _ := e.refresh(is.RefreshToken)
		if err := e.Revoke(e.ctx, r.RefreshToken, "access_token", Client{}); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{is.AccessToken, r.AccessToken, r.RefreshToken} {
			if e.active(t, tok) {
				t.Fatal("token of a revoked session still active")
			}
		}
		// Unknown and garbage tokens are fine (RFC 7009 §2.2).
		for _, tok := range []string{"nope", "rt1.AAAA", r.AccessToken + "x"} {
			if err := e.Revoke(e.ctx, tok, "", Client{}); err != nil {
				t.Fatalf("revoke %q: %v", tok, err)
			}
		}
	})
}

func TestEndListUpdateOwnership(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		a := e.create(t, "henry")
		b := e.create(t, "henry")
		other := e.create(t, "ivy")
		if err := e.End(e.ctx, other.Session.ID, "henry", Client{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ending another user's session: %v", err)
		}
		list, err := e.List(e.ctx, "henry", a.Session.ID, Client{})
		if err != nil || len(list) != 2 {
			t.Fatalf("list = %v %v", list, err)
		}
		if !list[0].Current || list[1].Current || list[0].Device == nil || list[0].IP != "203.0.113.7" {
			t.Fatalf("list items = %+v", list)
		}
		v := "blue"
		s, err := e.Update(e.ctx, b.Session.ID, "henry", a.Session.ID, Patch{Metadata: map[string]*string{"theme": &v}}, Client{})
		if err != nil || s.Metadata["theme"] != "blue" {
			t.Fatalf("update: %v %+v", err, s)
		}
		s, err = e.Update(e.ctx, b.Session.ID, "henry", a.Session.ID, Patch{Metadata: map[string]*string{"theme": nil}}, Client{})
		if err != nil || len(s.Metadata) != 0 {
			t.Fatalf("delete key: %v %+v", err, s)
		}
		// 32 keys max, counted after the merge.
		md := map[string]*string{}
		for i := 0; i < 32; i++ {
			md[fmt.Sprintf("k%d", i)] = &v
		}
		if _, err := e.Update(e.ctx, b.Session.ID, "henry", "", Patch{Metadata: md}, Client{}); err != nil {
			t.Fatal(err)
		}
		var ire *InvalidRequestError
		if _, err := e.Update(e.ctx, b.Session.ID, "henry", "", Patch{Metadata: map[string]*string{"k33": &v}}, Client{}); !errors.As(err, &ire) {
			t.Fatalf("33rd key: %v", err)
		}
		if err := e.End(e.ctx, b.Session.ID, "henry", Client{}); err != nil {
			t.Fatal(err)
		}
		if err := e.End(e.ctx, b.Session.ID, "henry", Client{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second end: %v", err)
		}
		n, err := e.RevokeUser(e.ctx, "henry", Client{})
		if err != nil || n != 1 {
			t.Fatalf("RevokeUser = %d, %v", n, err)
		}
		if e.active(t, a.AccessToken) {
			t.Fatal("logout everywhere left a token active")
		}
		if !e.active(t, other.AccessToken) {
			t.Fatal("logout everywhere touched another user")
		}
		n, err = e.RevokeSessions(e.ctx, []string{other.Session.ID, "not-a-uuid", a.Session.ID}, Client{})
		if err != nil || n != 1 {
			t.Fatalf("RevokeSessions = %d, %v", n, err)
		}
	})
}

// 1,000 sessions of 50 users created in parallel never exceed the limit
// (against real Redis; the in-process stores, which interpret Lua far more
// slowly, take 200 sessions of 20 users).
func TestParallelCreateRespectsLimit(t *testing.T) {
	eachStore(t, func(c *Config) { c.MaxPerUser = 10 }, func(t *testing.T, e *env) {
		total, users := 200, 20
		if e.tr.Real {
			total, users = 1000, 50
		}
		var wg sync.WaitGroup
		errs := make(chan error, total)
		sem := make(chan struct{}, 32)
		for i := 0; i < total; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				_, err := e.Create(e.ctx, CreateRequest{UserID: fmt.Sprintf("u%02d", i%users), Client: client("203.0.113.7", chromeUA)})
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for u := 0; u < users; u++ {
			uid := fmt.Sprintf("u%02d", u)
			list, err := e.List(e.ctx, uid, "", Client{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 10 {
				t.Fatalf("%s has %d live sessions, want exactly 10", uid, len(list))
			}
		}
	})
}
