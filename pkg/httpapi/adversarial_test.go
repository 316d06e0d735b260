package httpapi_test

// The adversarial suite over HTTP (issue 6, "What it must show"): requests
// an attacker would send, each answered with an exact status and error
// code, on every store transport. The harness (adversarial_harness_test.go)
// fails a test on any 5xx, on any error logged, and on any secret or token
// found in an answer or a log line. Further files: adversarial_raw_test.go
// (header injection over raw TCP), adversarial_ip_test.go (spoofed
// forwarding headers), adversarial_lockout_test.go (200 bad refreshes),
// adversarial_hijack_test.go (hijack detection).

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/token"
)

// advCase is one row: a request and the answer it must get.
type advCase struct {
	name  string
	req   areq
	want  want
	after func(t *testing.T, r *resp) // further checks of this answer
}

// forgery is one forged or damaged access token.
type forgery struct{ name, tok string }

// forgeries derives, from a genuine access token of the server, tokens an
// attacker could make: each differs from a valid one in one respect. The
// first element is the control: the genuine claims re-signed with the
// server's own key, which must be accepted (it proves the forging code
// builds tokens the server would take, so each refusal below is about the
// one thing changed).
func forgeries(t *testing.T, a *advServer, genuine string) []forgery {
	t.Helper()
	h, c := jwtParts(t, genuine)
	seg := strings.Split(genuine, ".")
	pub := a.key.Public().(ed25519.PublicKey)
	pubPEM, err := token.EncodePublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	_, attacker, _ := ed25519.GenerateKey(rand.Reader)

	hdr := func(f func(m map[string]any)) map[string]any { m := clone(h); f(m); return m }
	cl := func(f func(m map[string]any)) map[string]any { m := clone(c); f(m); return m }
	unsigned := func(hh, cc map[string]any, sig string) string {
		return encodeSeg(t, hh) + "." + encodeSeg(t, cc) + "." + sig
	}
	// The signature is 64 bytes: 86 base64url characters whose last one
	// carries 2 unused bits. Setting one gives the same bytes in a
	// non-canonical spelling, which strict decoding must refuse.
	sig := seg[2]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	nonCanonical := seg[0] + "." + seg[1] + "." + sig[:len(sig)-1] + string(alphabet[last^1])

	fs := []forgery{
		{"control: genuine claims re-signed", signEd(t, a.key, h, c)},
		{"alg none, empty signature", unsigned(hdr(func(m map[string]any) { m["alg"] = "none" }), c, "")},
		{"alg nOnE, original signature", unsigned(hdr(func(m map[string]any) { m["alg"] = "nOnE" }), c, sig)},
		{"alg none, no kid", unsigned(map[string]any{"alg": "none", "typ": "at+jwt"}, c, "")},
		{"HS256 keyed with the public key bytes", signHS(t, pub, hdr(func(m map[string]any) { m["alg"] = "HS256" }), c)},
		{"HS256 keyed with the public key PEM", signHS(t, pubPEM, hdr(func(m map[string]any) { m["alg"] = "HS256" }), c)},
		{"HS256 keyed with the JWKS x value", signHS(t, []byte(b64(pub)), hdr(func(m map[string]any) { m["alg"] = "HS256" }), c)},
		{"RS256 header over an EdDSA signature", unsigned(hdr(func(m map[string]any) { m["alg"] = "RS256" }), c, sig)},
		{"unknown kid", signEd(t, a.key, hdr(func(m map[string]any) { m["kid"] = "unknown-kid-000000000000" }), c)},
		{"no kid", signEd(t, a.key, hdr(func(m map[string]any) { delete(m, "kid") }), c)},
		{"our kid, the attacker's key", signEd(t, attacker, h, c)},
		{"expired", signEd(t, a.key, h, cl(func(m map[string]any) {
			m["iat"], m["exp"] = a.unixAt(-20*time.Minute), a.unixAt(-5*time.Minute)
		}))},
		{"not valid yet (nbf in 5 min)", signEd(t, a.key, h, cl(func(m map[string]any) { m["nbf"] = a.unixAt(5 * time.Minute) }))},
		{"issued in the future (iat in 5 min)", signEd(t, a.key, h, cl(func(m map[string]any) {
			m["iat"], m["exp"] = a.unixAt(5*time.Minute), a.unixAt(20*time.Minute)
		}))},
		{"no exp", signEd(t, a.key, h, cl(func(m map[string]any) { delete(m, "exp") }))},
		{"wrong iss", signEd(t, a.key, h, cl(func(m map[string]any) { m["iss"] = "https://evil.example" }))},
		{"wrong aud", signEd(t, a.key, h, cl(func(m map[string]any) { m["aud"] = "another-service" }))},
		{"aud array without ours", signEd(t, a.key, h, cl(func(m map[string]any) { m["aud"] = []string{"a", "b"} }))},
		{"no sid", signEd(t, a.key, h, cl(func(m map[string]any) { delete(m, "sid") }))},
		{"altered payload (sub), original signature", seg[0] + "." + encodeSeg(t, cl(func(m map[string]any) { m["sub"] = "admin" })) + "." + sig},
		{"altered payload (exp), original signature", seg[0] + "." + encodeSeg(t, cl(func(m map[string]any) { m["exp"] = a.unixAt(1000 * time.Hour) })) + "." + sig},
		{"altered header (kid), original signature", encodeSeg(t, hdr(func(m map[string]any) { m["kid"] = "x" })) + "." + seg[1] + "." + sig},
		{"signature truncated", genuine[:len(genuine)-10]},
		{"signature dropped", seg[0] + "." + seg[1] + "."},
		{"two segments", seg[0] + "." + seg[1]},
		{"four segments", genuine + "." + sig},
		{"non-canonical base64 signature", nonCanonical},
		{"typ JWT", signEd(t, a.key, hdr(func(m map[string]any) { m["typ"] = "JWT" }), c)},
		{"no typ", signEd(t, a.key, hdr(func(m map[string]any) { delete(m, "typ") }), c)},
		{"crit header", signEd(t, a.key, hdr(func(m map[string]any) { m["crit"] = []string{"exp"} }), c)},
	}
	for _, f := range fs[1:] {
		a.secret(f.tok, "a forged token ("+f.name+")")
	}
	return fs
}

// advFixture is the state the table works on.
type advFixture struct {
	victim, mallory issued
	forged          []forgery
}

// TestAdversarial is the table of attacks on every endpoint.
func TestAdversarial(t *testing.T) {
	eachAdv(t, nil, func(t *testing.T, a *advServer) {
		f := advFixture{
			victim:  a.create(t, "victim", map[string]any{"metadata": map[string]string{"k": "v"}}, "", ""),
			mallory: a.create(t, "mallory", nil, "", ""),
		}
		// Upstream tokens handed over by the back end must never come back.
		up := map[string]any{"access_token": "upstream-access-SECRET-1f0e9d8c7b6a", "refresh_token": "upstream-refresh-SECRET-5a4b3c2d1e0f",
			"id_token": "upstream-id-SECRET-00112233445566", "expires_in": 3600}
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			a.secret(up[k].(string), "an upstream "+k)
		}
		a.create(t, "upstreamer", map[string]any{"upstream": up}, "", "")
		a.sessionsOf(t, "upstreamer")

		f.forged = forgeries(t, a, f.victim.Access)
		control := f.forged[0]
		r := a.do(t, areq{method: "GET", path: "/api/sessions", bearer: control.tok})
		if r.Status != http.StatusOK {
			t.Fatalf("the control (genuine claims re-signed with the server's key) was refused: %d %s", r.Status, r.Body)
		}
		if !a.active(t, control.tok) {
			t.Fatal("the control token is not active")
		}

		cases := advTable(t, a, f)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := a.do(t, c.req)
				c.want.check(t, r)
				if c.after != nil {
					c.after(t, r)
				}
			})
		}
		t.Logf("%d table cases", len(cases))
		if len(cases) < 40 {
			t.Fatalf("only %d cases", len(cases))
		}

		// Nothing the attacks sent changed the victim's session.
		s := a.sessionOf(t, "victim", f.victim.SessionID)
		if s == nil || s["state"] != "active" {
			t.Fatalf("the victim's session is not active after the attacks: %v", s)
		}
		if md, _ := json.Marshal(s["metadata"]); string(md) != `{"k":"v"}` {
			t.Fatalf("the victim's metadata changed: %s", md)
		}
		if !a.active(t, f.victim.Access) || !a.active(t, f.victim.Refresh) || !a.active(t, f.mallory.Access) {
			t.Fatal("a genuine token stopped being active")
		}
	})
}

// advTable builds the rows.
func advTable(t *testing.T, a *advServer, f advFixture) []advCase {
	t.Helper()
	v, m := f.victim, f.mallory
	sidQ := "?session_id=" + v.SessionID
	var cs []advCase
	add := func(name string, r areq, w want) { cs = append(cs, advCase{name: name, req: r, want: w}) }
	addAfter := func(name string, r areq, w want, after func(t *testing.T, r *resp)) {
		cs = append(cs, advCase{name: name, req: r, want: w, after: after})
	}
	introspectForm := func(tok string) areq {
		return areq{method: "POST", path: "/api/introspect", bearer: introspectKey, form: url.Values{"token": {tok}}}
	}
	pwn := map[string]any{"metadata": map[string]any{"pwned": "yes"}}

	// ---- forged access tokens, as bearer and at introspection ----
	for _, fg := range f.forged[1:] {
		add("forged "+fg.name+"/GET sessions", areq{method: "GET", path: "/api/sessions", bearer: fg.tok}, wantBadCred)
		add("forged "+fg.name+"/DELETE victim", areq{method: "DELETE", path: "/api/sessions" + sidQ, bearer: fg.tok}, wantBadCred)
		add("forged "+fg.name+"/PATCH victim", areq{method: "PATCH", path: "/api/sessions" + sidQ, bearer: fg.tok, json: pwn}, wantBadCred)
		add("forged "+fg.name+"/introspect", introspectForm(fg.tok), wantInactive)
	}
	// Tokens of the wrong kind.
	add("refresh token as bearer", areq{method: "GET", path: "/api/sessions", bearer: v.Refresh}, wantBadCred)
	add("introspection key as bearer on sessions", areq{method: "GET", path: "/api/sessions", bearer: introspectKey}, wantBadCred)
	add("admin key introspected", introspectForm(adminKey), wantInactive)
	add("token with spaces and a control character introspected", introspectForm("eyJ a.b\x01c.d"), wantInactive)
	add("refresh token tampered introspected", introspectForm(tamper(v.Refresh)), wantInactive)

	// ---- one user's token on another user's session ----
	add("mallory DELETEs the victim's session", areq{method: "DELETE", path: "/api/sessions" + sidQ, bearer: m.Access}, wantNotFound)
	add("mallory PATCHes the victim's metadata", areq{method: "PATCH", path: "/api/sessions" + sidQ, bearer: m.Access, json: pwn}, wantNotFound)
	add("mallory resumes the victim's session", areq{method: "PATCH", path: "/api/sessions" + sidQ, bearer: m.Access,
		json: map[string]any{"state": "active"}}, wantNotFound)
	add("mallory lists the victim's sessions", areq{method: "GET", path: "/api/sessions?user_id=victim", bearer: m.Access},
		want{status: 403, code: "forbidden"})
	add("mallory DELETEs an unknown session", areq{method: "DELETE", path: "/api/sessions?session_id=0190f5c2-0000-7000-8000-000000000000", bearer: m.Access}, wantNotFound)
	add("mallory DELETEs a path-like session id", areq{method: "DELETE", path: "/api/sessions?session_id=..%2F..%2Fs%3A*", bearer: m.Access}, wantNotFound)
	addAfter("session id with CRLF and Set-Cookie", areq{method: "DELETE", bearer: m.Access,
		path: "/api/sessions?session_id=" + url.QueryEscape(v.SessionID+"\r\nSet-Cookie: pwned=1")}, wantNotFound,
		func(t *testing.T, r *resp) {
			if len(r.Header.Values("Set-Cookie")) > 0 {
				t.Fatal("a Set-Cookie was injected")
			}
		})
	add("session_id given twice", areq{method: "DELETE", path: "/api/sessions" + sidQ + "&session_id=" + m.SessionID, bearer: m.Access},
		want{status: 400, code: "invalid_request", descHas: "session_id"})
	add("mallory revokes the victim by session_ids", areq{method: "POST", path: "/api/revoke", bearer: m.Access,
		json: map[string]any{"session_ids": []string{v.SessionID}}}, wantBadCred)
	add("mallory revokes the victim by user_id", areq{method: "POST", path: "/api/revoke", bearer: m.Access,
		json: map[string]any{"user_id": "victim"}}, wantBadCred)

	// ---- admin endpoints without or with a wrong key ----
	wrongKeys := []struct{ name, key string }{
		{"a guessed key", "guessed-admin-key-0123456789"},
		{"the introspection key", introspectKey},
		{"the cron secret", cronSecret},
		{"an access token", v.Access},
		{"the admin key in upper case", strings.ToUpper(adminKey)},
		{"the admin key minus its last byte", adminKey[:len(adminKey)-1]},
		{"the admin key plus a byte", adminKey + "0"},
	}
	for _, ep := range []struct {
		name string
		r    areq
	}{
		{"audit", areq{method: "GET", path: "/api/audit"}},
		{"summary", areq{method: "GET", path: "/api/security/summary"}},
		{"admin create", areq{method: "POST", path: "/api/sessions", json: map[string]any{"user_id": "victim"}}},
		{"admin revoke user", areq{method: "POST", path: "/api/revoke", json: map[string]any{"user_id": "victim"}}},
		{"admin revoke sessions", areq{method: "POST", path: "/api/revoke", json: map[string]any{"session_ids": []string{v.SessionID}}}},
		{"list by user_id", areq{method: "GET", path: "/api/sessions?user_id=victim"}},
	} {
		add(ep.name+" without a key", ep.r, wantNoCred)
		for _, k := range wrongKeys {
			if k.key == v.Access && ep.name == "list by user_id" {
				continue // an access token may list (its own user's sessions: above)
			}
			r := ep.r
			r.bearer = k.key
			add(ep.name+" with "+k.name, r, wantBadCred)
		}
	}
	for _, k := range []struct{ name, key string }{{"none", ""}, {"a guessed key", "guessed-cron-secret-012345"},
		{"the admin key", adminKey}, {"the introspection key", introspectKey}, {"the secret plus a byte", cronSecret + "x"}} {
		w := wantBadCred
		if k.key == "" {
			w = wantNoCred
		}
		add("cron with "+k.name, areq{method: "GET", path: "/api/cron/cleanup", bearer: k.key}, w)
	}
	for _, k := range []struct{ name, key string }{{"none", ""}, {"a guessed key", "guessed-introspect-key-0123"},
		{"the cron secret", cronSecret}, {"an access token", v.Access}} {
		w := wantBadCred
		if k.key == "" {
			w = wantNoCred
		}
		add("introspect with "+k.name, areq{method: "POST", path: "/api/introspect", bearer: k.key, form: url.Values{"token": {v.Access}}}, w)
	}

	// ---- malformed Authorization headers ----
	auth := func(vals ...string) areq { return areq{method: "GET", path: "/api/audit", authz: vals} }
	add("Basic scheme", auth("Basic "+base64.StdEncoding.EncodeToString([]byte("admin:"+adminKey))), wantBadScheme)
	add("Bearer without a credential", auth("Bearer"), wantBadScheme)
	add("Bearer followed by blanks only", auth("Bearer    "), wantBadScheme) // HTTP trims the blanks
	add("credential with a space", auth("Bearer "+adminKey+" "+adminKey), wantBadCred)
	add("credential with a tab", auth("Bearer "+adminKey[:5]+"\t"+adminKey[5:]), wantBadCred)
	add("credential with a quote", auth(`Bearer "`+adminKey+`"`), wantBadCred)
	add("credential with a comma parameter", auth("Bearer "+adminKey+", error=x"), wantBadCred)
	add("credential of 5000 bytes", auth("Bearer "+strings.Repeat("A", 5000)), wantBadCred)
	add("two Authorization headers", auth("Bearer "+adminKey, "Bearer "+adminKey), wantBadScheme)
	add("scheme in lower case is still Bearer (RFC 9110)", auth("bearer "+adminKey), want{status: 200})

	// ---- request bodies (admin create unless said otherwise) ----
	create := func(body []byte, ct string) areq {
		return areq{method: "POST", path: "/api/sessions", bearer: adminKey, body: body, contentType: ct}
	}
	const js = "application/json"
	huge := append([]byte(`{"user_id":"huge","metadata":{"k":"`), bytes.Repeat([]byte("a"), 64<<10)...)
	huge = append(huge, `"}}`...)
	exact := []byte(`{"user_id":"exactly-64-KiB"}`)
	exact = append(exact, bytes.Repeat([]byte(" "), 64<<10-len(exact))...)
	add("malformed JSON", create([]byte(`{"user_id":`), js), want{status: 400, code: "invalid_request", descHas: "malformed JSON"})
	add("trailing comma", create([]byte(`{"user_id":"x",}`), js), want{status: 400, code: "invalid_request", descHas: "malformed JSON"})
	add("JSON array", create([]byte(`[{"user_id":"x"}]`), js), want{status: 400, code: "invalid_request", descHas: "JSON object"})
	add("JSON null", create([]byte(`null`), js), want{status: 400, code: "invalid_request", descHas: "JSON object"})
	add("JSON string", create([]byte(`"victim"`), js), want{status: 400, code: "invalid_request", descHas: "JSON object"})
	add("body over 64 KiB with a length", create(huge, js), wantTooLarge)
	add("body over 64 KiB chunked", areq{method: "POST", path: "/api/sessions", bearer: adminKey, body: huge, contentType: js, chunked: true}, wantTooLarge)
	add("body of exactly 64 KiB", create(exact, js), want{status: 201})
	add("deeply nested JSON (100 levels in device)", create([]byte(`{"user_id":"x","device":{"a":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}}`), js),
		want{status: 400, code: "invalid_request", descHas: "nested too deeply"})
	add("deeply nested JSON (60000 levels)", create([]byte(`{"a":`+strings.Repeat("[", 60000)), js),
		want{status: 400, code: "invalid_request", descHas: "nested too deeply"})
	add("text/plain", create([]byte(`{"user_id":"x"}`), "text/plain"), wantMedia)
	add("no Content-Type", create([]byte(`{"user_id":"x"}`), ""), wantMedia)
	add("form on a JSON-only endpoint", create([]byte(`user_id=x`), "application/x-www-form-urlencoded"), wantMedia)
	add("charset ISO-8859-1", create([]byte(`{"user_id":"x"}`), "application/json; charset=iso-8859-1"), wantMedia)
	add("unparsable media type", create([]byte(`{"user_id":"x"}`), "application/json;;; =x"), wantMedia)
	add("json-patch media type", create([]byte(`{"user_id":"x"}`), "application/json-patch+json"), wantMedia)
	add("multipart", create([]byte("--b\r\n\r\nx\r\n--b--"), "multipart/form-data; boundary=b"), wantMedia)
	add("invalid UTF-8 in a JSON string", create([]byte("{\"user_id\":\"\xff\xfe\"}"), js), want{status: 400, code: "invalid_request", descHas: "UTF-8"})
	add("overlong UTF-8 encoding of '/'", create([]byte("{\"user_id\":\"\xc0\xaf\"}"), js), want{status: 400, code: "invalid_request", descHas: "UTF-8"})
	add("byte order mark", create([]byte("\xef\xbb\xbf{\"user_id\":\"x\"}"), js), want{status: 400, code: "invalid_request", descHas: "JSON object"})
	add("user_id a number", create([]byte(`{"user_id":5}`), js), want{status: 400, code: "invalid_request", descHas: "user_id"})
	add("user_id an operator object", create([]byte(`{"user_id":{"$ne":null}}`), js), want{status: 400, code: "invalid_request", descHas: "user_id"})
	add("user_id with NUL", create([]byte(`{"user_id":"vic\u0000tim"}`), js), want{status: 400, code: "invalid_request", descHas: "user_id"})
	add("user_id of 256 bytes", create([]byte(`{"user_id":"`+strings.Repeat("u", 256)+`"}`), js), want{status: 400, code: "invalid_request", descHas: "user_id"})
	add("no user_id", create([]byte(`{}`), js), want{status: 400, code: "invalid_request", descHas: "user_id"})
	add("device a string", create([]byte(`{"user_id":"x","device":"iphone"}`), js), want{status: 400, code: "invalid_request", descHas: "device"})
	add("device.screen_width a string", create([]byte(`{"user_id":"x","device":{"screen_width":"wide"}}`), js),
		want{status: 400, code: "invalid_request", descHas: "screen_width"})
	add("device.screen_width 1e400", create([]byte(`{"user_id":"x","device":{"screen_width":1e400}}`), js),
		want{status: 400, code: "invalid_request", descHas: "screen_width"})
	add("device.languages of objects", create([]byte(`{"user_id":"x","device":{"languages":[{}]}}`), js),
		want{status: 400, code: "invalid_request", descHas: "languages"})
	add("metadata value a number", create([]byte(`{"user_id":"x","metadata":{"k":5}}`), js), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("metadata an array", create([]byte(`{"user_id":"x","metadata":["k"]}`), js), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("upstream.expires_in a string", create([]byte(`{"user_id":"x","upstream":{"access_token":"a","expires_in":"soon"}}`), js),
		want{status: 400, code: "invalid_request", descHas: "expires_in"})
	add("upstream.expires_in negative", create([]byte(`{"user_id":"x","upstream":{"access_token":"a","expires_in":-1}}`), js),
		want{status: 400, code: "invalid_request", descHas: "expires_in"})
	add("trailing garbage", create([]byte(`{"user_id":"x"} garbage`), js), want{status: 400, code: "invalid_request", descHas: "after the JSON object"})
	add("two JSON objects", create([]byte(`{"user_id":"x"}{"user_id":"y"}`), js), want{status: 400, code: "invalid_request", descHas: "after the JSON object"})
	// encoding/json keeps the last of duplicate keys; pinned so a change is
	// a decision (see the report: refusing duplicates would close parser
	// differentials with proxies that keep the first).
	addAfter("duplicate keys: the last one wins", create([]byte(`{"user_id":"dup-first","user_id":"dup-last"}`), js), want{status: 201},
		func(t *testing.T, r *resp) {
			if got := issuedOf(t, r).UserID; got != "dup-last" {
				t.Fatalf("user_id %q", got)
			}
		})
	// Metadata limits (SPEC: 32 keys of 64 bytes, values of 512 bytes).
	md := func(n, klen, vlen int) map[string]any {
		out := map[string]any{}
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("%02d", i) + strings.Repeat("k", klen-2)
			out[k] = strings.Repeat("v", vlen)
		}
		return out
	}
	adminCreate := func(user string, body map[string]any) areq {
		body["user_id"] = user
		return areq{method: "POST", path: "/api/sessions", bearer: adminKey, json: body}
	}
	add("metadata at the limits", adminCreate("md-ok", map[string]any{"metadata": md(32, 64, 512)}), want{status: 201})
	add("metadata of 33 keys", adminCreate("md", map[string]any{"metadata": md(33, 8, 1)}), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("metadata key of 65 bytes", adminCreate("md", map[string]any{"metadata": md(1, 65, 1)}), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("metadata value of 513 bytes", adminCreate("md", map[string]any{"metadata": md(1, 8, 513)}), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("metadata empty key", adminCreate("md", map[string]any{"metadata": map[string]any{"": "v"}}), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("X-HTTP-Method-Override is ignored", areq{method: "POST", path: "/api/sessions", json: map[string]any{"user_id": "victim"},
		headers: map[string]string{"X-HTTP-Method-Override": "DELETE"}}, wantNoCred)

	// ---- PATCH (admin) ----
	patch := func(body []byte, ct string) areq {
		return areq{method: "PATCH", path: "/api/sessions" + sidQ, bearer: adminKey, body: body, contentType: ct}
	}
	mdJSON := func(n, klen, vlen int) []byte {
		b, _ := json.Marshal(map[string]any{"metadata": md(n, klen, vlen)})
		return b
	}
	add("PATCH metadata of 33 keys", patch(mdJSON(33, 8, 1), js), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("PATCH merge past 32 keys", patch(mdJSON(32, 8, 1), js), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("PATCH key of 65 bytes", patch(mdJSON(1, 65, 1), js), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("PATCH value of 513 bytes", patch(mdJSON(1, 8, 513), js), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("PATCH state revoked", patch([]byte(`{"state":"revoked"}`), js), want{status: 400, code: "invalid_request", descHas: "state"})
	add("PATCH state a number", patch([]byte(`{"state":1}`), js), want{status: 400, code: "invalid_request", descHas: "state"})
	add("PATCH metadata a string", patch([]byte(`{"metadata":"k=v"}`), js), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("PATCH nothing", patch([]byte(`{}`), js), want{status: 400, code: "invalid_request", descHas: "metadata"})
	add("PATCH over 64 KiB", patch(huge, js), wantTooLarge)
	add("PATCH text/plain", patch([]byte(`{"metadata":{"a":"b"}}`), "text/plain"), wantMedia)

	// ---- refresh ----
	form := func(body string) areq {
		return areq{method: "POST", path: "/api/refresh", body: []byte(body), contentType: "application/x-www-form-urlencoded"}
	}
	rjson := func(body string) areq {
		return areq{method: "POST", path: "/api/refresh", body: []byte(body), contentType: js}
	}
	add("refresh form without grant_type", form("refresh_token=x"), want{status: 400, code: "invalid_request", descHas: "grant_type"})
	add("refresh grant_type password", form("grant_type=password&username=a&password=b"), want{status: 400, code: "unsupported_grant_type"})
	add("refresh parameter repeated", form("grant_type=refresh_token&refresh_token=a&refresh_token="+url.QueryEscape(v.Refresh)),
		want{status: 400, code: "invalid_request", descHas: "repeated"})
	add("refresh form percent-encoded invalid UTF-8", form("grant_type=refresh_token&refresh_token=%ff%fe"),
		want{status: 400, code: "invalid_request", descHas: "UTF-8"})
	add("refresh form raw invalid UTF-8", form("grant_type=refresh_token&refresh_token=\xff"), want{status: 400, code: "invalid_request", descHas: "UTF-8"})
	add("refresh form malformed escape", form("grant_type=refresh_token&refresh_token=%zz"), want{status: 400, code: "invalid_request", descHas: "form"})
	add("refresh JSON token a number", rjson(`{"refresh_token":5}`), want{status: 400, code: "invalid_request", descHas: "refresh_token"})
	add("refresh JSON token an array", rjson(`{"refresh_token":["a"]}`), want{status: 400, code: "invalid_request", descHas: "refresh_token"})
	add("refresh JSON device a string", rjson(`{"refresh_token":"x","device":"x"}`), want{status: 400, code: "invalid_request", descHas: "device"})
	add("refresh multipart", areq{method: "POST", path: "/api/refresh", body: []byte("--b--"), contentType: "multipart/form-data; boundary=b"}, wantMedia)
	add("refresh over 64 KiB", form("grant_type=refresh_token&refresh_token="+strings.Repeat("a", 64<<10)), wantTooLarge)
	add("refresh token of 5000 bytes", form("grant_type=refresh_token&refresh_token="+strings.Repeat("a", 5000)), wantInvalidGrant)
	add("refresh token forged rt1 shape", form("grant_type=refresh_token&refresh_token="+url.QueryEscape(token.RefreshPrefix+strings.Repeat("A", 91))), wantInvalidGrant)
	add("refresh token tampered", form("grant_type=refresh_token&refresh_token="+url.QueryEscape(tamper(v.Refresh))), wantInvalidGrant)
	add("access token as refresh token", form("grant_type=refresh_token&refresh_token="+url.QueryEscape(v.Access)), wantInvalidGrant)
	add("refresh token with NUL", rjson(`{"refresh_token":"rt1.\u0000AAAA"}`), wantInvalidGrant)
	addAfter("refresh token with CRLF and Set-Cookie", rjson(`{"refresh_token":"rt1.x\r\nSet-Cookie: pwned=1"}`), wantInvalidGrant,
		func(t *testing.T, r *resp) {
			if len(r.Header.Values("Set-Cookie")) > 0 {
				t.Fatal("a Set-Cookie was injected")
			}
		})

	// ---- introspect and revoke bodies ----
	add("introspect without token", areq{method: "POST", path: "/api/introspect", bearer: introspectKey, form: url.Values{"x": {"y"}}},
		want{status: 400, code: "invalid_request", descHas: "token"})
	add("introspect JSON token a number", areq{method: "POST", path: "/api/introspect", bearer: introspectKey, body: []byte(`{"token":5}`), contentType: js},
		want{status: 400, code: "invalid_request", descHas: "token"})
	add("introspect text/plain", areq{method: "POST", path: "/api/introspect", bearer: introspectKey, body: []byte("token=x"), contentType: "text/plain"}, wantMedia)
	add("introspect over 64 KiB", areq{method: "POST", path: "/api/introspect", bearer: introspectKey,
		body: []byte("token=" + strings.Repeat("a", 64<<10)), contentType: "application/x-www-form-urlencoded"}, wantTooLarge)
	add("introspect end_user_ip not an IP", areq{method: "POST", path: "/api/introspect", bearer: introspectKey,
		form: url.Values{"token": {v.Access}, "end_user_ip": {"127.0.0.1\r\nX: y"}}}, want{status: 400, code: "invalid_request", descHas: "end_user_ip"})
	add("revoke without token", areq{method: "POST", path: "/api/revoke", form: url.Values{"token_type_hint": {"access_token"}}},
		want{status: 400, code: "invalid_request", descHas: "token"})
	add("revoke session_ids a string", areq{method: "POST", path: "/api/revoke", bearer: adminKey, body: []byte(`{"session_ids":"x"}`), contentType: js},
		want{status: 400, code: "invalid_request", descHas: "session_ids"})
	add("revoke session_ids empty", areq{method: "POST", path: "/api/revoke", bearer: adminKey, json: map[string]any{"session_ids": []string{}}},
		want{status: 400, code: "invalid_request", descHas: "session_ids"})
	add("revoke token and user_id at once", areq{method: "POST", path: "/api/revoke", bearer: adminKey, json: map[string]any{"token": "x", "user_id": "victim"}},
		want{status: 400, code: "invalid_request", descHas: "not both"})
	add("revoke unknown token", areq{method: "POST", path: "/api/revoke", form: url.Values{"token": {"unknown-token-0123456789"}}}, want{status: 200, body: `{}`})

	// ---- methods and paths ----
	const getAllow = "GET, OPTIONS, HEAD"
	const postAllow = "POST, OPTIONS"
	for _, mc := range []struct{ method, path, allow string }{
		{"PUT", "/api/sessions", "GET, POST, PATCH, DELETE, OPTIONS, HEAD"},
		{"TRACE", "/api/sessions", "GET, POST, PATCH, DELETE, OPTIONS, HEAD"},
		{"GET", "/api/refresh", postAllow},
		{"FOO", "/api/refresh", postAllow},
		{"GET", "/api/revoke", postAllow},
		{"PUT", "/api/introspect", postAllow},
		{"POST", "/api/audit", getAllow},
		{"DELETE", "/api/security/summary", getAllow},
		{"POST", "/api/cron/cleanup", getAllow},
		{"POST", "/api/jwks", getAllow},
		{"POST", "/api/health", getAllow},
	} {
		add(mc.method+" "+mc.path, areq{method: mc.method, path: mc.path, bearer: adminKey},
			want{status: 405, code: "method_not_allowed", allow: mc.allow})
	}
	// CORS: SESSION_ALLOWED_ORIGINS is empty here, so no origin is allowed.
	noACAO := func(t *testing.T, r *resp) {
		if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("CORS headers for a foreign origin: %v", r.Header)
		}
	}
	addAfter("preflight from a foreign origin", areq{method: "OPTIONS", path: "/api/sessions", headers: map[string]string{
		"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "authorization"}},
		want{status: 403, code: "forbidden"}, noACAO)
	addAfter("preflight from a null origin", areq{method: "OPTIONS", path: "/api/refresh", headers: map[string]string{
		"Origin": "null", "Access-Control-Request-Method": "POST"}}, want{status: 403, code: "forbidden"}, noACAO)
	addAfter("request from a foreign origin gets no CORS grant", areq{method: "GET", path: "/api/sessions", bearer: v.Access,
		headers: map[string]string{"Origin": "https://evil.example"}}, want{status: 200}, noACAO)
	for _, p := range []string{"/api/sessions/", "/API/SESSIONS", "/api/../api/sessions", "/api/sessions%00"} {
		add("path "+p, areq{method: "GET", path: p, bearer: adminKey}, wantNotFound)
	}
	return cs
}

// tamper changes one character in the middle of tok (so the decoded bytes
// differ, not just the spelling).
func tamper(tok string) string {
	i := len(tok) / 2
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// A refresh token replayed within the grace window gets the same
// successor; replayed after it, it ends the whole session: every access
// and refresh token of it is inactive, the bearer tokens stop working.
func TestAdversarialRefreshReplay(t *testing.T) {
	eachAdv(t, nil, func(t *testing.T, a *advServer) {
		s0 := a.create(t, "replayed", nil, "", "")
		r := a.refresh(t, s0.Refresh, "", "")
		want{status: 200}.check(t, r)
		s1 := issuedOf(t, r)
		r = a.refresh(t, s0.Refresh, "", "") // a racing tab, within grace
		want{status: 200}.check(t, r)
		if issuedOf(t, r) != s1 {
			t.Fatal("within the grace window the same successor must come back")
		}
		// The rotated token is no longer the session's refresh token.
		wantInactive.check(t, a.introspect(t, s0.Refresh))
		if !a.active(t, s1.Access) || !a.active(t, s0.Access) {
			t.Fatal("access tokens of a live session must stay active")
		}

		a.clock.Advance(11 * time.Second) // past SESSION_REFRESH_GRACE
		bad := a.refresh(t, s0.Refresh, "", "")
		wantInvalidGrant.check(t, bad)
		for _, tok := range []string{s0.Access, s1.Access, s0.Refresh, s1.Refresh} {
			wantInactive.check(t, a.introspect(t, tok))
		}
		wantBadCred.check(t, a.do(t, areq{method: "GET", path: "/api/sessions", bearer: s1.Access}))
		wantBadCred.check(t, a.do(t, areq{method: "DELETE", path: "/api/sessions?session_id=" + s1.SessionID, bearer: s1.Access}))
		again := a.refresh(t, s1.Refresh, "", "")
		wantInvalidGrant.check(t, again)
		wantInvalidGrant.check(t, a.refresh(t, s0.Refresh, "", ""))
		// One body whatever the reason (reuse, ended session, garbage).
		junk := a.refresh(t, "not-a-token-at-all", "", "")
		wantInvalidGrant.check(t, junk)
		if !bytes.Equal(bad.Body, again.Body) || !bytes.Equal(bad.Body, junk.Body) {
			t.Fatalf("invalid_grant bodies differ: %s / %s / %s", bad.Body, again.Body, junk.Body)
		}
		if len(withAction(a.events(t, "session_id="+s0.SessionID), "token.reuse_detected")) != 1 {
			t.Fatal("no token.reuse_detected event")
		}
		if a.sessionOf(t, "replayed", s0.SessionID) != nil {
			t.Fatal("the session is still listed")
		}

		// A revoked refresh token (RFC 7009) is dead too, and so are its
		// session's access tokens.
		v := a.create(t, "revoked", nil, "", "")
		want{status: 200, body: `{}`}.check(t, a.do(t, areq{method: "POST", path: "/api/revoke",
			form: url.Values{"token": {v.Refresh}, "token_type_hint": {"access_token"}}}))
		wantInvalidGrant.check(t, a.refresh(t, v.Refresh, "", ""))
		wantInactive.check(t, a.introspect(t, v.Access))
	})
}

// The audit cursor (before=) comes back from the client: anything that is
// not a cursor this service returned must be a 400, never reach the store
// as a command it refuses (a 500).
func TestAdversarialAuditCursor(t *testing.T) {
	eachAdv(t, nil, func(t *testing.T, a *advServer) {
		a.create(t, "cursor", nil, "", "")
		empty := want{status: 200, body: `{"events":[],"next":null}`}
		for _, c := range []struct {
			name, before string
			want         want
		}{
			{"letters", "abc", wantBadRequest},
			{"the stream's last-ID symbol", "$", wantBadRequest},
			{"the maximum ID", "+", wantBadRequest},
			{"a negative sequence", "1-" + "-1", wantBadRequest},
			{"257 bytes", strings.Repeat("1", 257), wantBadRequest},
			{"time 1 ms", "1-0", empty},
			{"the largest ID", "18446744073709551615-18446744073709551615", want{status: 200}},
			{"20 digits past uint64", "99999999999999999999-1", wantBadRequest},
			{"the first possible ID", "0-0", empty},
		} {
			t.Run(c.name, func(t *testing.T) {
				c.want.check(t, a.do(t, areq{method: "GET", path: "/api/audit?before=" + url.QueryEscape(c.before), bearer: adminKey}))
			})
		}
	})
}

// Sixteen clients racing with one refresh token (tabs of one browser, or a
// thief racing its owner): within the grace window every one gets the very
// same successor, nothing fails, nothing else is issued.
func TestAdversarialRacingReplays(t *testing.T) {
	eachAdv(t, nil, func(t *testing.T, a *advServer) {
		s0 := a.create(t, "racer", nil, "", "")
		const n = 16
		type result struct {
			r   *resp
			err error
		}
		results := make(chan result, n)
		for i := 0; i < n; i++ {
			go func(i int) {
				r, err := a.send(t, areq{method: "POST", path: "/api/refresh", from: fmt.Sprintf("127.0.0.%d", 10+i),
					form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s0.Refresh}}})
				results <- result{r, err}
			}(i)
		}
		var first issued
		for i := 0; i < n; i++ {
			res := <-results
			if res.err != nil {
				t.Fatal(res.err)
			}
			r := res.r
			want{status: 200}.check(t, r)
			got := issuedOf(t, r)
			if i == 0 {
				first = got
			} else if got != first {
				t.Fatal("racing refreshes got different successors")
			}
		}
		if s := a.sessionOf(t, "racer", s0.SessionID); s == nil || s["generation"] != 1.0 {
			t.Fatalf("after %d racing refreshes: %v (want generation 1)", n, s)
		}
	})
}
