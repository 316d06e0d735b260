package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeSessiond is a readable in-memory model of the HTTP contract in
// /work/shared/SPEC.md, just enough to check that the generator speaks it:
// rotation is enforced (a reused refresh token ends the session), keys are
// checked, revocation ends sessions. It is a test fixture for the harness,
// not a stand-in for the service in any measurement.
type fakeSessiond struct {
	admin, intro string

	mu        sync.Mutex
	alive     map[string]bool   // session id -> not ended
	access    map[string]string // access token -> session id
	refresh   map[string]string // current refresh token -> session id
	rotated   map[string]string // superseded refresh token -> session id
	rotations int
	revoked   int
	creates   int
	lists     int
	intros    int
}

func newFakeSessiond(t *testing.T, admin, intro string) (*fakeSessiond, *httptest.Server) {
	f := &fakeSessiond{admin: admin, intro: intro, alive: map[string]bool{}, access: map[string]string{},
		refresh: map[string]string{}, rotated: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/sessions", f.create)
	mux.HandleFunc("GET /api/sessions", f.list)
	mux.HandleFunc("POST /api/refresh", f.doRefresh)
	mux.HandleFunc("POST /api/introspect", f.introspect)
	mux.HandleFunc("POST /api/revoke", f.revoke)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func randToken(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func writeJSONResp(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code string) {
	writeJSONResp(w, status, map[string]string{"error": code, "error_description": code})
}

func bearerOf(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// fields reads a form or JSON body into string fields (device kept raw).
func fields(r *http.Request) (map[string]json.RawMessage, bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	out := map[string]json.RawMessage{}
	switch ct {
	case "application/json":
		if json.NewDecoder(r.Body).Decode(&out) != nil {
			return nil, false
		}
	case "application/x-www-form-urlencoded":
		if r.ParseForm() != nil {
			return nil, false
		}
		for k := range r.PostForm {
			b, _ := json.Marshal(r.PostForm.Get(k))
			out[k] = b
		}
	default:
		return nil, false
	}
	return out, true
}

func str(m map[string]json.RawMessage, k string) string {
	var s string
	_ = json.Unmarshal(m[k], &s)
	return s
}

func (f *fakeSessiond) create(w http.ResponseWriter, r *http.Request) {
	if bearerOf(r) != f.admin {
		fail(w, 401, "unauthorized")
		return
	}
	m, ok := fields(r)
	if !ok || str(m, "user_id") == "" {
		fail(w, 400, "invalid_request")
		return
	}
	if d, ok := m["device"]; ok && (len(d) == 0 || d[0] != '{') {
		fail(w, 400, "invalid_request")
		return
	}
	sid, at, rt := randToken("s_"), randToken("at_"), randToken("rt_")
	f.mu.Lock()
	f.alive[sid], f.access[at], f.refresh[rt] = true, sid, sid
	f.creates++
	f.mu.Unlock()
	writeJSONResp(w, 201, map[string]any{"session_id": sid, "user_id": str(m, "user_id"), "access_token": at,
		"token_type": "Bearer", "expires_in": 900, "refresh_token": rt, "refresh_expires_in": 86400, "session": map[string]any{}})
}

func (f *fakeSessiond) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	sid, ok := f.access[bearerOf(r)]
	ok = ok && f.alive[sid]
	f.lists++
	f.mu.Unlock()
	if !ok {
		fail(w, 401, "unauthorized")
		return
	}
	writeJSONResp(w, 200, map[string]any{"sessions": []any{map[string]any{"session_id": sid, "current": true}}})
}

func (f *fakeSessiond) doRefresh(w http.ResponseWriter, r *http.Request) {
	m, ok := fields(r)
	if !ok {
		fail(w, 400, "invalid_request")
		return
	}
	old := str(m, "refresh_token")
	f.mu.Lock()
	defer f.mu.Unlock()
	sid, current := f.refresh[old]
	if !current {
		if sid, reused := f.rotated[old]; reused {
			f.alive[sid] = false // theft: the whole session ends
		}
		fail(w, 400, "invalid_grant")
		return
	}
	if !f.alive[sid] {
		fail(w, 400, "invalid_grant")
		return
	}
	delete(f.refresh, old)
	f.rotated[old] = sid
	at, rt := randToken("at_"), randToken("rt_")
	f.access[at], f.refresh[rt] = sid, sid
	f.rotations++
	writeJSONResp(w, 200, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 900,
		"refresh_token": rt, "refresh_expires_in": 86400, "session_id": sid})
}

func (f *fakeSessiond) introspect(w http.ResponseWriter, r *http.Request) {
	if k := bearerOf(r); k != f.intro && k != f.admin {
		fail(w, 401, "unauthorized")
		return
	}
	m, ok := fields(r)
	if !ok || str(m, "token") == "" {
		fail(w, 400, "invalid_request")
		return
	}
	f.mu.Lock()
	sid, known := f.access[str(m, "token")]
	active := known && f.alive[sid]
	f.intros++
	f.mu.Unlock()
	if !active {
		writeJSONResp(w, 200, map[string]bool{"active": false})
		return
	}
	writeJSONResp(w, 200, map[string]any{"active": true, "token_type": "access_token", "sid": sid})
}

func (f *fakeSessiond) revoke(w http.ResponseWriter, r *http.Request) {
	m, ok := fields(r)
	if !ok || str(m, "token") == "" {
		fail(w, 400, "invalid_request")
		return
	}
	f.mu.Lock()
	if sid, ok := f.refresh[str(m, "token")]; ok {
		delete(f.refresh, str(m, "token"))
		f.alive[sid] = false
		f.revoked++
	}
	f.mu.Unlock()
	w.WriteHeader(200)
}

// fakeHydra models the three Hydra endpoints the generator uses.
type fakeHydra struct {
	mu      sync.Mutex
	id, sec string
	tokens  map[string]bool
	grants  int
}

func newFakeHydra(t *testing.T) (pub, adm *httptest.Server, h *fakeHydra) {
	h = &fakeHydra{tokens: map[string]bool{}}
	am := http.NewServeMux()
	am.HandleFunc("POST /admin/clients", func(w http.ResponseWriter, r *http.Request) {
		var c struct {
			Secret string   `json:"client_secret"`
			Grants []string `json:"grant_types"`
		}
		if json.NewDecoder(r.Body).Decode(&c) != nil || len(c.Grants) != 1 || c.Grants[0] != "client_credentials" || c.Secret == "" {
			fail(w, 400, "invalid_request")
			return
		}
		h.mu.Lock()
		h.id, h.sec = randToken("client-"), c.Secret
		h.mu.Unlock()
		writeJSONResp(w, 201, map[string]string{"client_id": h.id, "client_secret": c.Secret})
	})
	am.HandleFunc("POST /admin/oauth2/introspect", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		h.mu.Lock()
		ok := h.tokens[r.PostForm.Get("token")]
		h.mu.Unlock()
		writeJSONResp(w, 200, map[string]bool{"active": ok})
	})
	pm := http.NewServeMux()
	pm.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		h.mu.Lock()
		defer h.mu.Unlock()
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(h.id+":"+h.sec))
		if r.Header.Get("Authorization") != want || r.PostForm.Get("grant_type") != "client_credentials" {
			fail(w, 401, "invalid_client")
			return
		}
		tok := randToken("ory_at_")
		h.tokens[tok] = true
		h.grants++
		writeJSONResp(w, 200, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 3600})
	})
	pub, adm = httptest.NewServer(pm), httptest.NewServer(am)
	t.Cleanup(pub.Close)
	t.Cleanup(adm.Close)
	return pub, adm, h
}
