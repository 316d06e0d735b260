package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestCreate(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		r := s.do(req{method: "POST", path: "/api/sessions", bearer: adminKey, json: map[string]any{
			"user_id":  "u1",
			"upstream": map[string]any{"access_token": "up-at", "refresh_token": "up-rt", "expires_in": 3600, "scope": "openid email"},
			"device":   map[string]any{"os": "Linux", "languages": []string{"en", "de"}},
			"metadata": map[string]string{"plan": "pro"},
		}})
		expect(t, r, http.StatusCreated, "")
		m := r.JSON(t)
		for _, k := range []string{"session_id", "user_id", "access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in", "session"} {
			if _, ok := m[k]; !ok {
				t.Errorf("create answer lacks %s", k)
			}
		}
		if m["token_type"] != "Bearer" || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("answer %s %v", r.Body, r.Header)
		}
		if strings.Contains(string(r.Body), "up-at") || strings.Contains(string(r.Body), "up-rt") {
			t.Fatal("upstream tokens returned to the caller")
		}
		sess, _ := m["session"].(map[string]any)
		if sess["state"] != "active" || sess["session_id"] != m["session_id"] {
			t.Fatalf("session %v", sess)
		}

		cases := []struct {
			name   string
			r      req
			status int
			code   string
		}{
			{"no credential, no proof", req{json: map[string]any{"user_id": "x"}}, 401, "unauthorized"},
			{"empty body", req{}, 401, "unauthorized"},
			{"wrong key", req{bearer: "not-the-admin-key-at-all", json: map[string]any{"user_id": "x"}}, 401, "unauthorized"},
			{"access token is not admin", req{bearer: tokensOf(t, r).Access, json: map[string]any{"user_id": "x"}}, 401, "unauthorized"},
			{"admin without user", req{bearer: adminKey, json: map[string]any{}}, 400, "invalid_request"},
			{"admin empty user", req{bearer: adminKey, json: map[string]any{"user_id": ""}}, 400, "invalid_request"},
			{"user id control char", req{bearer: adminKey, json: map[string]any{"user_id": "a\u0001b"}}, 400, "invalid_request"},
			{"user id too long", req{bearer: adminKey, json: map[string]any{"user_id": strings.Repeat("u", 300)}}, 400, "invalid_request"},
			{"device wrong type", req{bearer: adminKey, json: map[string]any{"user_id": "x", "device": map[string]any{"screen_width": "wide"}}}, 400, "invalid_request"},
			{"metadata wrong type", req{bearer: adminKey, json: map[string]any{"user_id": "x", "metadata": []string{"a"}}}, 400, "invalid_request"},
			{"too much metadata", req{bearer: adminKey, json: map[string]any{"user_id": "x", "metadata": bigMetadata(33)}}, 400, "invalid_request"},
			{"form body", req{bearer: adminKey, raw: "user_id=x", contentType: "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
			{"id_token without provider", req{json: map[string]any{"id_token": "a.b.c"}}, 401, "unauthorized"},
			{"code without provider", req{json: map[string]any{"code": "c", "code_verifier": strings.Repeat("v", 43), "redirect_uri": "http://localhost/cb"}}, 401, "unauthorized"},
			{"code without verifier", req{json: map[string]any{"code": "c", "redirect_uri": "http://localhost/cb"}}, 400, "invalid_request"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tc.r.method, tc.r.path = "POST", "/api/sessions"
				expect(t, s.do(tc.r), tc.status, tc.code)
			})
		}
	})
}

func bigMetadata(n int) map[string]string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

func TestListEndPatch(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		a1 := s.create("gina", map[string]any{"device": map[string]any{"browser": "Firefox"}})
		a2 := s.create("gina", map[string]any{"device": map[string]any{"browser": "Safari"}})
		other := s.create("hank", nil)

		r := s.do(req{method: "GET", path: "/api/sessions", bearer: a1.Access})
		expect(t, r, http.StatusOK, "")
		list := sessionsOf(t, r)
		if len(list) != 2 {
			t.Fatalf("gina has %d sessions listed: %s", len(list), r.Body)
		}
		for _, sess := range list {
			for _, k := range []string{"session_id", "state", "created_at", "last_active_at", "expires_at", "ip", "device", "current"} {
				if _, ok := sess[k]; !ok {
					t.Errorf("listed session lacks %s", k)
				}
			}
			if (sess["session_id"] == a1.SessionID) != (sess["current"] == true) {
				t.Fatalf("current mark wrong: %v", sess)
			}
		}
		// Admin lists any user's; a user cannot list another's.
		r = s.do(req{method: "GET", path: "/api/sessions?user_id=hank", bearer: adminKey})
		expect(t, r, http.StatusOK, "")
		if l := sessionsOf(t, r); len(l) != 1 || l[0]["session_id"] != other.SessionID {
			t.Fatalf("admin list %s", r.Body)
		}
		expect(t, s.do(req{method: "GET", path: "/api/sessions", bearer: adminKey}), 400, "invalid_request")
		expect(t, s.do(req{method: "GET", path: "/api/sessions?user_id=hank", bearer: a1.Access}), 403, "forbidden")
		expect(t, s.do(req{method: "GET", path: "/api/sessions"}), 401, "unauthorized")
		expect(t, s.do(req{method: "GET", path: "/api/sessions", bearer: "a.b.c"}), 401, "unauthorized")

		// PATCH metadata: merge, null deletes.
		r = s.do(req{method: "PATCH", path: "/api/sessions?session_id=" + a2.SessionID, bearer: a1.Access,
			json: map[string]any{"metadata": map[string]any{"name": "laptop", "gone": nil}}})
		expect(t, r, http.StatusOK, "")
		sess, _ := r.JSON(t)["session"].(map[string]any)
		if md, _ := sess["metadata"].(map[string]any); md["name"] != "laptop" {
			t.Fatalf("patched session %s", r.Body)
		}
		expect(t, s.do(req{method: "PATCH", path: "/api/sessions?session_id=" + other.SessionID, bearer: a1.Access,
			json: map[string]any{"metadata": map[string]any{"x": "y"}}}), 404, "not_found")
		expect(t, s.do(req{method: "PATCH", path: "/api/sessions?session_id=" + a2.SessionID, bearer: a1.Access,
			json: map[string]any{"metadata": map[string]any{"k": strings.Repeat("v", 513)}}}), 400, "invalid_request")
		expect(t, s.do(req{method: "PATCH", path: "/api/sessions", bearer: a1.Access,
			json: map[string]any{"metadata": map[string]any{}}}), 400, "invalid_request")
		expect(t, s.do(req{method: "PATCH", path: "/api/sessions?session_id=" + a2.SessionID, bearer: a1.Access,
			json: map[string]any{"state": "revoked"}}), 400, "invalid_request")

		// DELETE: another user's session is 404; one's own is 204.
		expect(t, s.do(req{method: "DELETE", path: "/api/sessions?session_id=" + other.SessionID, bearer: a1.Access}), 404, "not_found")
		expect(t, s.do(req{method: "DELETE", path: "/api/sessions?session_id=" + a2.SessionID, bearer: a1.Access}), 204, "")
		if s.active(a2.Refresh) {
			t.Fatal("ended session still active")
		}
		expect(t, s.do(req{method: "DELETE", path: "/api/sessions?session_id=" + other.SessionID, bearer: adminKey}), 204, "")
		expect(t, s.do(req{method: "DELETE", path: "/api/sessions", bearer: adminKey}), 400, "invalid_request")
		expect(t, s.do(req{method: "DELETE", path: "/api/sessions?session_id=nope", bearer: adminKey}), 404, "not_found")
	})
}

func sessionsOf(t *testing.T, r *resp) []map[string]any {
	t.Helper()
	raw, ok := r.JSON(t)["sessions"].([]any)
	if !ok {
		t.Fatalf("no sessions array: %s", r.Body)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i], _ = v.(map[string]any)
	}
	return out
}

// SESSION_MAX_PER_USER: the oldest session is ended by the new one.
func TestPerUserLimit(t *testing.T) {
	eachStore(t, map[string]string{"SESSION_MAX_PER_USER": "2"}, func(t *testing.T, s *server) {
		first := s.create("ivy", nil)
		s.clock.Advance(1e9)
		second := s.create("ivy", nil)
		s.clock.Advance(1e9)
		third := s.create("ivy", nil)
		if s.active(first.Refresh) {
			t.Fatal("the oldest session survived the per-user limit")
		}
		if !s.active(second.Refresh) || !s.active(third.Refresh) {
			t.Fatal("a newer session was ended")
		}
		r := s.do(req{method: "GET", path: "/api/sessions?user_id=ivy", bearer: adminKey})
		expect(t, r, http.StatusOK, "")
		if n := len(sessionsOf(t, r)); n != 2 {
			t.Fatalf("%d sessions listed, want 2", n)
		}
	})
}

// Logout everywhere and ending listed sessions, with the admin key.
func TestAdminRevoke(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, s *server) {
		j1, j2, j3 := s.create("jo", nil), s.create("jo", nil), s.create("jo", nil)
		k := s.create("kim", nil)

		r := s.do(req{method: "POST", path: "/api/revoke", bearer: adminKey, json: map[string]any{"session_ids": []string{j1.SessionID}}})
		expect(t, r, http.StatusOK, "")
		if n := r.JSON(t)["revoked"]; n != float64(1) {
			t.Fatalf("revoked %v, want 1", n)
		}
		r = s.do(req{method: "POST", path: "/api/revoke", bearer: adminKey, json: map[string]any{"user_id": "jo"}})
		expect(t, r, http.StatusOK, "")
		if n := r.JSON(t)["revoked"]; n != float64(2) {
			t.Fatalf("logout everywhere revoked %v, want 2", n)
		}
		for _, tk := range []tokens{j1, j2, j3} {
			if s.active(tk.Access) || s.active(tk.Refresh) {
				t.Fatal("a session survived logout everywhere")
			}
		}
		if !s.active(k.Refresh) {
			t.Fatal("another user's session was ended")
		}
		expect(t, s.do(req{method: "POST", path: "/api/revoke", json: map[string]any{"user_id": "kim"}}), 401, "unauthorized")
		expect(t, s.do(req{method: "POST", path: "/api/revoke", bearer: k.Access, json: map[string]any{"user_id": "kim"}}), 401, "unauthorized")
		expect(t, s.do(req{method: "POST", path: "/api/revoke", bearer: adminKey, json: map[string]any{"user_id": "kim", "session_ids": []string{"a"}}}), 400, "invalid_request")
		if !s.active(k.Refresh) {
			t.Fatal("a refused admin revoke ended a session")
		}
	})
}
