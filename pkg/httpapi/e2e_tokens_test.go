package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// The life of a session over HTTP: create, introspect, refresh, revoke.
func TestLifecycle(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		tk := s.create("alice", map[string]any{
			"device":   map[string]any{"user_agent": "Firefox", "screen_width": 1920, "unknown_field": true},
			"metadata": map[string]string{"app": "web"},
		})
		if tk.SessionID == "" || tk.Access == "" || tk.Refresh == "" || tk.UserID != "alice" ||
			tk.ExpiresIn <= 0 || tk.RefreshExpiresIn <= 0 {
			t.Fatalf("create answer %+v", tk)
		}
		if !s.active(tk.Access) || !s.active(tk.Refresh) {
			t.Fatal("fresh tokens are not active")
		}
		in := s.introspect(tk.Access).JSON(t)
		for _, k := range []string{"token_type", "sub", "sid", "jti", "iss", "aud", "iat", "exp"} {
			if _, ok := in[k]; !ok {
				t.Errorf("introspection lacks %s: %v", k, in)
			}
		}
		if in["sub"] != "alice" || in["sid"] != tk.SessionID || in["token_type"] != "access_token" {
			t.Fatalf("introspection %v", in)
		}

		r := s.refresh(tk.Refresh)
		expect(t, r, http.StatusOK, "")
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Fatalf("token response Cache-Control %q", got)
		}
		m := r.JSON(t)
		if m["token_type"] != "Bearer" || m["session_id"] != tk.SessionID || len(m) != 6 {
			t.Fatalf("refresh answer is not SPEC's six fields: %s", r.Body)
		}
		tk2 := tokensOf(t, r)
		if tk2.Refresh == tk.Refresh || tk2.Access == tk.Access {
			t.Fatal("refresh did not rotate")
		}

		// JSON shape of refresh too.
		r = s.do(req{method: "POST", path: "/api/refresh", json: map[string]any{"refresh_token": tk2.Refresh}})
		expect(t, r, http.StatusOK, "")
		tk3 := tokensOf(t, r)

		// Revoke the refresh token: the session ends, all its tokens die.
		r = s.do(req{method: "POST", path: "/api/revoke",
			form: url.Values{"token": {tk3.Refresh}, "token_type_hint": {"refresh_token"}}})
		expect(t, r, http.StatusOK, "")
		for _, tok := range []string{tk3.Access, tk3.Refresh, tk2.Access, tk.Access} {
			if s.active(tok) {
				t.Fatal("a token of a revoked session is still active")
			}
		}
		expect(t, s.refresh(tk3.Refresh), http.StatusBadRequest, "invalid_grant")
	})
}

func TestRevokeRFC7009(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		// Unknown, malformed and foreign tokens: 200 all the same.
		for _, tok := range []string{"unknown", "a.b.c", "srt_bogus", "eyJhbGciOiJub25lIn0.e30."} {
			for _, hint := range []string{"", "access_token", "refresh_token", "weird"} {
				r := s.do(req{method: "POST", path: "/api/revoke", form: url.Values{"token": {tok}, "token_type_hint": {hint}}})
				expect(t, r, http.StatusOK, "")
			}
		}
		expect(t, s.do(req{method: "POST", path: "/api/revoke", form: url.Values{"token_type_hint": {"access_token"}}}),
			http.StatusBadRequest, "invalid_request")
		expect(t, s.do(req{method: "POST", path: "/api/revoke", json: map[string]any{}}),
			http.StatusBadRequest, "invalid_request")
		expect(t, s.do(req{method: "POST", path: "/api/revoke"}), http.StatusBadRequest, "invalid_request")

		// An access token alone: it dies, its session and refresh token live.
		tk := s.create("bob", nil)
		r := s.do(req{method: "POST", path: "/api/revoke",
			json: map[string]any{"token": tk.Access, "token_type_hint": "refresh_token"}}) // wrong hint: ignored
		expect(t, r, http.StatusOK, "")
		if s.active(tk.Access) {
			t.Fatal("revoked access token still active")
		}
		if !s.active(tk.Refresh) {
			t.Fatal("revoking an access token ended the session")
		}
		expect(t, s.do(req{method: "GET", path: "/api/sessions", bearer: tk.Access}), http.StatusUnauthorized, "unauthorized")
		expect(t, s.refresh(tk.Refresh), http.StatusOK, "")
	})
}

func TestIntrospectInactiveIsExact(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		for _, tok := range []string{"x", "a.b.c", "srt_" + "A"} {
			r := s.introspect(tok)
			if string(r.Body) != `{"active":false}` {
				t.Fatalf("inactive answer %q", r.Body)
			}
		}
		// Callers: introspection key or admin key, nothing else.
		tk := s.create("carol", nil)
		expect(t, s.do(req{method: "POST", path: "/api/introspect", form: url.Values{"token": {tk.Access}}}),
			http.StatusUnauthorized, "unauthorized")
		expect(t, s.do(req{method: "POST", path: "/api/introspect", bearer: tk.Access, form: url.Values{"token": {tk.Access}}}),
			http.StatusUnauthorized, "unauthorized")
		expect(t, s.do(req{method: "POST", path: "/api/introspect", bearer: cronSecret, form: url.Values{"token": {tk.Access}}}),
			http.StatusUnauthorized, "unauthorized")
		r := s.do(req{method: "POST", path: "/api/introspect", bearer: adminKey, json: map[string]any{"token": tk.Access}})
		expect(t, r, http.StatusOK, "")
		if r.JSON(t)["active"] != true {
			t.Fatal("admin key cannot introspect")
		}
		expect(t, s.do(req{method: "POST", path: "/api/introspect", bearer: introspectKey, form: url.Values{}}),
			http.StatusBadRequest, "invalid_request")
	})
}

func TestRefreshErrors(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		bad := []req{
			{method: "POST", path: "/api/refresh", form: url.Values{"refresh_token": {"x"}}},
			{method: "POST", path: "/api/refresh", form: url.Values{"grant_type": {"password"}}},
			{method: "POST", path: "/api/refresh", json: map[string]any{"grant_type": "client_credentials"}},
			{method: "POST", path: "/api/refresh", form: url.Values{"grant_type": {"refresh_token"}}},
			{method: "POST", path: "/api/refresh", json: map[string]any{"refresh_token": 5}},
		}
		codes := []string{"invalid_request", "unsupported_grant_type", "unsupported_grant_type", "invalid_request", "invalid_request"}
		for i, r := range bad {
			expect(t, s.do(r), http.StatusBadRequest, codes[i])
		}
		// Every refused grant has one and the same body.
		first := s.refresh("unknown-token")
		expect(t, first, http.StatusBadRequest, "invalid_grant")
		tk := s.create("dave", nil)
		expect(t, s.do(req{method: "POST", path: "/api/revoke", form: url.Values{"token": {tk.Refresh}}}), http.StatusOK, "")
		revoked := s.refresh(tk.Refresh)
		expect(t, revoked, http.StatusBadRequest, "invalid_grant")
		if string(first.Body) != string(revoked.Body) {
			t.Fatalf("invalid_grant bodies differ: %s vs %s", first.Body, revoked.Body)
		}
	})
}

// Presenting a rotated refresh token within the grace window returns the
// same successor; after it, the whole session ends.
func TestRefreshReuse(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		tk := s.create("erin", nil)
		r1 := s.refresh(tk.Refresh)
		expect(t, r1, http.StatusOK, "")
		r2 := s.refresh(tk.Refresh) // a racing tab, within grace
		expect(t, r2, http.StatusOK, "")
		if tokensOf(t, r1).Refresh != tokensOf(t, r2).Refresh {
			t.Fatal("within grace the same successor must be returned")
		}
		next := tokensOf(t, r1)

		s.clock.Advance(11 * time.Second) // past SESSION_REFRESH_GRACE (10s)
		expect(t, s.refresh(tk.Refresh), http.StatusBadRequest, "invalid_grant")
		// Theft: the whole session is over, the successor too.
		if s.active(next.Access) || s.active(next.Refresh) {
			t.Fatal("reuse after grace did not end the session")
		}
		expect(t, s.refresh(next.Refresh), http.StatusBadRequest, "invalid_grant")
		audit := s.do(req{method: "GET", path: "/api/audit?session_id=" + next.SessionID, bearer: adminKey})
		expect(t, audit, http.StatusOK, "")
		if !hasAction(t, audit, "token.reuse_detected") {
			t.Fatalf("no token.reuse_detected event: %s", audit.Body)
		}
	})
}

// A session unused for SESSION_IDLE_TIMEOUT is over.
func TestIdleExpiry(t *testing.T) {
	kvEnv := map[string]string{"SESSION_IDLE_TIMEOUT": "1m"}
	eachStore(t, kvEnv, func(t *testing.T, s *server) {
		tk := s.create("frank", nil)
		if tk.RefreshExpiresIn > 60 || tk.RefreshExpiresIn < 55 {
			t.Fatalf("refresh_expires_in %v, want about 60 (the idle deadline)", tk.RefreshExpiresIn)
		}
		s.clock.Advance(40 * time.Second)
		r := s.refresh(tk.Refresh) // activity slides the idle deadline
		expect(t, r, http.StatusOK, "")
		next := tokensOf(t, r)
		s.clock.Advance(40 * time.Second) // 80s after creation, 40s after the refresh
		r = s.refresh(next.Refresh)
		expect(t, r, http.StatusOK, "")
		last := tokensOf(t, r)
		s.clock.Advance(61 * time.Second)
		expect(t, s.refresh(last.Refresh), http.StatusBadRequest, "invalid_grant")
		if s.active(last.Refresh) {
			t.Fatal("idle session still active")
		}
	})
}

func hasAction(t *testing.T, r *resp, action string) bool {
	t.Helper()
	evs, _ := r.JSON(t)["events"].([]any)
	for _, e := range evs {
		if m, _ := e.(map[string]any); m["action"] == action {
			return true
		}
	}
	return false
}
