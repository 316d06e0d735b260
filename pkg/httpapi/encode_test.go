package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The hand-written refresh answer must be byte for byte what encoding/json
// writes, and fall back to it whenever a string would need escaping.
func TestRefreshResponseEncodesLikeEncodingJSON(t *testing.T) {
	strs := []string{"", "Bearer", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2ln", "rt1.AAAA-_", "0193a6f0-0000-7000-8000-000000000000",
		"quote\"", "back\\slash", "<tag>&", "new\nline", "é", "\x7f", "\xff", "\u2028", "~ !#$%'()*+,-./:;=?@[]^_`{|}"}
	for _, at := range strs {
		for _, rt := range strs {
			for _, sid := range strs {
				r := refreshResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: 900, RefreshToken: rt,
					RefreshExpiresIn: -7, SessionID: sid}
				want, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				got, ok := r.appendJSON(nil)
				plain := plainJSON(at) && plainJSON(rt) && plainJSON(sid)
				if ok != plain {
					t.Fatalf("%q %q %q: ok = %v, want %v", at, rt, sid, ok, plain)
				}
				if ok && !bytes.Equal(got, want) {
					t.Fatalf("ours: %s\njson: %s", got, want)
				}
			}
		}
	}
}

// setSecurityHeaders must leave what Header.Set would, and an Add to one
// header must not show up in another.
func TestSecurityHeadersLikeSet(t *testing.T) {
	want := http.Header{}
	for _, kv := range securityHeaders {
		want.Set(kv[0], kv[1])
	}
	w := httptest.NewRecorder()
	w.Header()["Cache-Control"] = []string{"public"}
	setSecurityHeaders(w.Header())
	for k, v := range want {
		if got := w.Header().Values(k); len(got) != 1 || got[0] != v[0] {
			t.Fatalf("%s = %q, want %q", k, got, v)
		}
	}
	w.Header().Add("Pragma", "x")
	w.Header().Add("Cache-Control", "y")
	if got := w.Header().Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
		t.Fatalf("neighbour changed: %q", got)
	}
	if got := w.Header().Values("Pragma"); len(got) != 2 || got[0] != "no-cache" {
		t.Fatalf("Pragma = %q", got)
	}
}
