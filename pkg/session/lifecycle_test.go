package session

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCreateRefreshIntrospect(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		is := e.create(t, "alice")
		if is.Session.State != StateActive || is.Session.UserID != "alice" || is.RefreshToken == "" || is.AccessToken == "" {
			t.Fatalf("create: %+v", is)
		}
		if is.ExpiresIn != 900 {
			t.Errorf("expires_in = %d, want 900", is.ExpiresIn)
		}
		if is.RefreshExpiresIn != int((24 * time.Hour).Seconds()) {
			t.Errorf("refresh_expires_in = %d, want 86400", is.RefreshExpiresIn)
		}
		if !e.active(t, is.AccessToken) {
			t.Fatal("fresh access token inactive")
		}
		if !e.active(t, is.RefreshToken) {
			t.Fatal("fresh refresh token inactive")
		}
		e.clk.Add(time.Minute)
		r, err := e.refresh(is.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if r.RefreshToken == is.RefreshToken || r.AccessToken == is.AccessToken || r.Session.ID != is.Session.ID {
			t.Fatal("refresh did not rotate")
		}
		if r.Session.Generation != 1 {
			t.Errorf("generation = %d", r.Session.Generation)
		}
		if e.active(t, is.RefreshToken) {
			t.Error("rotated refresh token still introspects active after rotation")
		}
		if !e.active(t, r.RefreshToken) || !e.active(t, r.AccessToken) {
			t.Error("successor inactive")
		}
		// The first access token stays valid until it expires.
		if !e.active(t, is.AccessToken) {
			t.Error("previous access token inactive before its exp")
		}
		want := []string{"session.created", "token.issued", "token.rotated", "session.refreshed", "token.introspected_inactive"}
		if got := e.actions(t, is.Session.ID); !slices.Equal(got, want) {
			t.Errorf("audit = %v, want %v", got, want)
		}
	})
}

func TestGraceReturnsSameSuccessor(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		is := e.create(t, "bob")
		a, err := e.refresh(is.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Add(5 * time.Second) // inside the 10s grace window
		b, err := e.refresh(is.RefreshToken)
		if err != nil {
			t.Fatalf("racing refresh inside grace refused: %v", err)
		}
		if a.RefreshToken != b.RefreshToken || a.AccessToken != b.AccessToken {
			t.Fatal("racing refresh got a different successor pair")
		}
		if e.state(t, is.Session.ID) != StateActive {
			t.Fatal("session not active after racing refresh")
		}
		// The successor still rotates normally.
		if _, err := e.refresh(a.RefreshToken); err != nil {
			t.Fatalf("successor refused: %v", err)
		}
	})
}

func TestReuseAfterGraceEndsSession(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		is := e.create(t, "carol")
		a, err := e.refresh(is.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Add(11 * time.Second) // past the grace window
		if _, err := e.refresh(is.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("reuse after grace: err = %v, want ErrInvalidGrant", err)
		}
		if st := e.state(t, is.Session.ID); st != StateRevoked {
			t.Fatalf("state after reuse = %q, want revoked", st)
		}
		// The whole family is dead: the legitimate successor too, and every access token.
		if _, err := e.refresh(a.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("successor after reuse: %v", err)
		}
		if e.active(t, a.AccessToken) || e.active(t, is.AccessToken) {
			t.Fatal("access token still active after reuse detection")
		}
		if !slices.Contains(e.actions(t, is.Session.ID), "token.reuse_detected") {
			t.Fatal("no token.reuse_detected event")
		}
	})
}
