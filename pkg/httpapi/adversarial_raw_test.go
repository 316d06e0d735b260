package httpapi_test

// Header injection over raw TCP: requests the Go client refuses to write
// (CR, LF or control bytes in header values, folded lines, bytes that are
// not UTF-8). Two kinds of answers are possible: net/http refuses the
// request before any handler runs (a plain-text 4xx, connection closed:
// nothing of ours is involved, so there is no error code to check, and the
// test asserts the handler never answered), or the request reaches the
// handlers and must get their exact JSON answer.

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// rawReq builds a request with the given header lines (each already
// terminated as the case needs) and body.
func rawReq(method, path, headerLines, body string) string {
	cl := ""
	if body != "" {
		cl = "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
	}
	return method + " " + path + " HTTP/1.1\r\nHost: sessiond.test\r\nConnection: close\r\n" + headerLines + cl + "\r\n" + body
}

// wantRefusedByHTTP checks an answer net/http gave on its own: the status,
// and that it is not one of ours (no JSON error, none of our headers).
func wantRefusedByHTTP(t *testing.T, r *resp, status int) {
	t.Helper()
	advCases.Add(1)
	if r.Status != status {
		t.Fatalf("status %d, want %d from net/http: %s", r.Status, status, r.Body)
	}
	if json.Valid(r.Body) || r.Header.Get("X-Content-Type-Options") != "" {
		t.Fatalf("the handler answered a request net/http must refuse: %v %s", r.Header, r.Body)
	}
}

func TestAdversarialHeaderInjection(t *testing.T) {
	eachAdv(t, nil, func(t *testing.T, a *advServer) {
		v := a.create(t, "victim", nil, "", "")
		admin := "Authorization: Bearer " + adminKey

		refused := []struct {
			name, req string
			status    int
		}{
			{"bare CR splitting Authorization", rawReq("GET", "/api/audit", admin+"\rX-Evil: 1\r\n", ""), 400},
			{"NUL in Authorization", rawReq("GET", "/api/audit", admin+"\x00\r\n", ""), 400},
			{"control byte in the bearer token", rawReq("GET", "/api/sessions", "Authorization: Bearer "+v.Access[:20]+"\x01"+v.Access[20:]+"\r\n", ""), 400},
			{"DEL in User-Agent", rawReq("GET", "/api/health", "User-Agent: a\x7fb\r\n", ""), 400},
			{"space in a header name", rawReq("GET", "/api/health", "X Forwarded-For: 1.2.3.4\r\n", ""), 400},
			{"two Host headers", rawReq("GET", "/api/health", "Host: evil.example\r\n", ""), 400},
			{"two different Content-Lengths", rawReq("POST", "/api/refresh", "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n", "a=b"), 400},
			{"a 2 MiB header", rawReq("GET", "/api/health", "X-Big: "+strings.Repeat("a", 2<<20)+"\r\n", ""), 431},
		}
		for _, c := range refused {
			t.Run(c.name, func(t *testing.T) { wantRefusedByHTTP(t, a.raw(t, c.req), c.status) })
		}

		handled := []struct {
			name, req string
			want      want
		}{
			// A bare LF ends a header line (RFC 9112 §2.2 lets a recipient
			// accept it): the "injected" header is just one more header the
			// client sent, and earns nothing.
			{"LF-injected second Authorization", rawReq("GET", "/api/audit", admin+"\n"+admin+"\r\n", ""), wantBadScheme},
			{"LF-injected X-Forwarded-For on create", rawReq("POST", "/api/sessions", admin+"\r\nContent-Type: application/json\r\nUser-Agent: x\nX-Forwarded-For: 203.0.113.66\r\n",
				`{"user_id":"lf-injected"}`), want{status: 201}},
			// obs-fold (RFC 9112 §5.2): net/http unfolds the continuation
			// into the value, which then is no token68.
			{"folded Authorization", rawReq("GET", "/api/audit", admin+"\r\n X-Evil: 1\r\n", ""), wantBadCred},
			{"folded bearer at introspect", rawReq("POST", "/api/introspect", "Authorization: Bearer "+introspectKey+"\r\n\tx\r\nContent-Type: application/x-www-form-urlencoded\r\n",
				"token=x"), wantBadCred},
			{"bytes not UTF-8 in Authorization", rawReq("GET", "/api/audit", "Authorization: Bearer \xff\xfe"+adminKey+"\r\n", ""), wantBadCred},
			{"Latin-1 bytes in the bearer token", rawReq("GET", "/api/sessions", "Authorization: Bearer "+v.Access+"\xe9\r\n", ""), wantBadCred},
			{"bytes not UTF-8 in User-Agent on create", rawReq("POST", "/api/sessions", admin+"\r\nContent-Type: application/json\r\nUser-Agent: Mozilla/5.0 \xff\xfe\xc0\xaf (X11)\r\n",
				`{"user_id":"bad-ua"}`), want{status: 201}},
			{"CRLF percent-encoded in the query", rawReq("DELETE", "/api/sessions?session_id=x%0d%0aSet-Cookie:%20pwned=1", admin+"\r\n", ""), wantNotFound},
			{"CRLF percent-encoded in user_id", rawReq("GET", "/api/sessions?user_id=victim%0d%0aSet-Cookie:%20pwned=1", admin+"\r\n", ""),
				want{status: 400, code: "invalid_request", descHas: "user_id"}},
		}
		for _, c := range handled {
			t.Run(c.name, func(t *testing.T) {
				r := a.raw(t, c.req)
				c.want.check(t, r)
				if len(r.Header.Values("Set-Cookie")) > 0 || r.Header.Get("X-Evil") != "" {
					t.Fatalf("a header was injected into the answer: %v", r.Header)
				}
			})
		}

		// The injected X-Forwarded-For did not become the client IP.
		s := a.sessionsOf(t, "lf-injected")
		if len(s) != 1 || s[0]["ip"] != "127.0.0.1" {
			t.Fatalf("the LF-injected X-Forwarded-For was used as the client IP: %v", s)
		}
		// A User-Agent that is not UTF-8 is stored and shown as valid JSON.
		r := a.do(t, areq{method: "GET", path: "/api/audit?user_id=bad-ua", bearer: adminKey})
		want{status: 200}.check(t, r)
		evs := withAction(a.events(t, "user_id=bad-ua"), "session.created")
		if !json.Valid(r.Body) || len(evs) != 1 || evs[0].UserAgent == nil || !strings.HasPrefix(*evs[0].UserAgent, "Mozilla/5.0 ") {
			t.Fatalf("audit of the bad User-Agent: %s", r.Body)
		}
		want{status: 200}.check(t, a.do(t, areq{method: "GET", path: "/api/sessions?user_id=bad-ua", bearer: adminKey}))
		// Nothing of the above reached the victim.
		if !a.active(t, v.Access) {
			t.Fatal("the victim's token stopped being active")
		}
	})
}
