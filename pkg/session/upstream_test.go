package session

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"

	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
	"github.com/sessionkit/sessiond/pkg/upstream"
)

// The session core against a real OpenID Connect provider (mockoidc, see
// upstream_oidc_test.go), on every store transport. mockoidc's access
// tokens live 10 minutes (AccessTTL) and the refresh window is the default
// 5 minutes: 4 minutes after login the token is outside the window, 6
// minutes after it is inside, 11 minutes after it has expired.

func TestUpstreamCreateFromCode(t *testing.T) {
	eachUp(t, false, func(t *testing.T, u *upEnv) {
		is := u.login(t, "user-42")
		sid := is.Session.ID
		if is.Session.UserID != "user-42" {
			t.Fatalf("user = %q, want the ID token's sub user-42", is.Session.UserID)
		}
		_, toks := u.stored(t, sid)
		if toks.AccessToken == "" || toks.RefreshToken == "" || toks.IDToken == "" {
			t.Fatalf("stored upstream tokens incomplete: %v", toks)
		}
		c := jwt.MapClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(toks.IDToken, c); err != nil || c["sub"] != is.Session.UserID {
			t.Fatalf("stored ID token sub = %v (%v), want %q", c["sub"], err, is.Session.UserID)
		}
		nearTime(t, "upstream expiry", u.upstreamExpiry(t, "user-42", sid), u.clk.Now().Add(u.op.AccessTTL))
		if !u.active(t, is.AccessToken) {
			t.Fatal("access token of the new session not active")
		}
		if n := u.op.count("authorization_code"); n != 1 {
			t.Fatalf("%d code grants, want 1", n)
		}

		v := oauth2.GenerateVerifier()
		code := u.op.code(t, "user-43", v)
		c43 := client("198.51.100.9", chromeUA)
		// Refused before any network call: the code stays good.
		_, err := u.CreateFromCode(u.ctx, code, v, "https://evil.example.test/callback", nil, c43)
		if !errors.Is(err, upstream.ErrRedirectURI) {
			t.Fatalf("redirect URI not listed: %v, want upstream.ErrRedirectURI", err)
		}
		if n := u.op.count("authorization_code"); n != 1 {
			t.Fatalf("a refused redirect URI reached the provider (%d code grants)", n)
		}
		if _, err := u.CreateFromCode(u.ctx, code, v, upRedirect, nil, c43); err != nil {
			t.Fatalf("the code after a refused redirect URI: %v", err)
		}
		for _, tc := range []struct{ name, code, verifier string }{
			{"used code", code, v},
			{"unknown code", "no-such-code", v},
			{"verifier does not match", u.op.code(t, "user-44", v), oauth2.GenerateVerifier()},
		} {
			_, err := u.CreateFromCode(u.ctx, tc.code, tc.verifier, upRedirect, nil, c43)
			if !errors.Is(err, upstream.ErrInvalidGrant) {
				t.Fatalf("%s: %v, want upstream.ErrInvalidGrant", tc.name, err)
			}
			if strings.Contains(err.Error(), tc.code) || strings.Contains(err.Error(), tc.verifier) {
				t.Fatalf("%s: error text repeats the code or verifier", tc.name)
			}
		}
		for uid, want := range map[string]int{"user-42": 1, "user-43": 1, "user-44": 0} {
			if ss, err := u.List(u.ctx, uid, "", Client{}); err != nil || len(ss) != want {
				t.Fatalf("%s has %d sessions (%v), want %d", uid, len(ss), err, want)
			}
		}
	})
}

func TestUpstreamCreateFromIDToken(t *testing.T) {
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	eachUp(t, false, func(t *testing.T, u *upEnv) {
		// An ID token as the provider issues it, from a code exchange.
		v := oauth2.GenerateVerifier()
		toks, _, err := u.p.Exchange(u.ctx, u.op.code(t, "idt-real", v), v, upRedirect)
		if err != nil {
			t.Fatal(err)
		}
		is, err := u.CreateFromIDToken(u.ctx, toks.IDToken, laptop(), client("203.0.113.7", chromeUA))
		if err != nil || is.Session.UserID != "idt-real" {
			t.Fatalf("provider's own ID token: %v, %+v", err, is)
		}

		kid, err := u.op.Keypair.KeyID()
		if err != nil {
			t.Fatal(err)
		}
		now := u.clk.Now()
		claims := func(sub string) jwt.MapClaims {
			return jwt.MapClaims{"iss": u.op.Issuer(), "aud": u.op.ClientID, "sub": sub,
				"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
		}
		sign := func(c jwt.MapClaims, key *rsa.PrivateKey, kid string) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
			tok.Header["kid"] = kid
			s, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		own := u.op.Keypair.PrivateKey
		wrongAud, expired := claims("idt-aud"), claims("idt-exp")
		wrongAud["aud"] = "another-client"
		expired["iat"], expired["nbf"], expired["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		for _, tc := range []struct {
			name, sub, tok string
			want           error // nil: accepted
		}{
			{"minted like the provider's (control)", "idt-ok", sign(claims("idt-ok"), own, kid), nil},
			{"wrong audience", "idt-aud", sign(wrongAud, own, kid), upstream.ErrInvalidToken},
			{"expired", "idt-exp", sign(expired, own, kid), upstream.ErrInvalidToken},
			{"unknown key, the provider's kid", "idt-key", sign(claims("idt-key"), foreign, kid), upstream.ErrInvalidToken},
			{"unknown key and kid", "idt-kid", sign(claims("idt-kid"), foreign, "other-kid"), upstream.ErrInvalidToken},
		} {
			_, err := u.CreateFromIDToken(u.ctx, tc.tok, nil, client("198.51.100.9", chromeUA))
			if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
			}
			want := 0
			if tc.want == nil {
				want = 1
			}
			if ss, err := u.List(u.ctx, tc.sub, "", Client{}); err != nil || len(ss) != want {
				t.Fatalf("%s: %d sessions for %s (%v), want %d", tc.name, len(ss), tc.sub, err, want)
			}
		}

		// A session from a bare ID token holds no upstream access or
		// refresh token: there is nothing to refresh at the provider, and
		// its refreshes must neither call it nor end the session, however
		// much time passes.
		rt := is.RefreshToken
		for _, step := range []time.Duration{0, 20 * time.Minute} {
			u.advance(step)
			next, err := u.refresh(rt)
			if err != nil {
				t.Fatalf("refresh of an ID-token session after %v: %v (state %q)", step, err, u.state(t, is.Session.ID))
			}
			rt = next.RefreshToken
		}
		if n := u.op.refreshGrants(); n != 0 {
			t.Fatalf("%d refresh grants for a session without an upstream refresh token", n)
		}
	})
}

func TestUpstreamProactiveRefresh(t *testing.T) {
	eachUp(t, false, func(t *testing.T, u *upEnv) {
		is := u.login(t, "pro")
		sid, rt := is.Session.ID, is.RefreshToken
		exp0 := u.upstreamExpiry(t, "pro", sid)
		_, before := u.stored(t, sid)
		for _, step := range []time.Duration{0, 4 * time.Minute} { // outside the window
			u.advance(step)
			next, err := u.refresh(rt)
			if err != nil {
				t.Fatalf("refresh outside the window: %v", err)
			}
			rt = next.RefreshToken
		}
		if n := u.op.refreshGrants(); n != 0 {
			t.Fatalf("%d refresh grants outside the window, want 0", n)
		}
		if got := u.upstreamExpiry(t, "pro", sid); !got.Equal(exp0) {
			t.Fatalf("upstream expiry moved from %v to %v without a refresh", exp0, got)
		}

		u.advance(2 * time.Minute) // expires in 4 minutes: inside the window
		next, err := u.refresh(rt)
		if err != nil {
			t.Fatalf("refresh inside the window: %v", err)
		}
		if n := u.op.refreshGrants(); n != 1 {
			t.Fatalf("%d refresh grants inside the window, want 1", n)
		}
		exp1 := u.upstreamExpiry(t, "pro", sid)
		if !exp1.After(exp0) {
			t.Fatalf("upstream expiry %v did not move past %v", exp1, exp0)
		}
		nearTime(t, "refreshed upstream expiry", exp1, u.clk.Now().Add(u.op.AccessTTL))
		if _, after := u.stored(t, sid); after.AccessToken == before.AccessToken || after.RefreshToken != before.RefreshToken {
			t.Fatal("stored tokens: want a new access token and the same (not rotated) refresh token")
		}
		if n, r := u.countOf(t, sid, ActionUpstreamRefreshed), u.countOf(t, sid, ActionUpstreamRotated); n != 1 || r != 0 {
			t.Fatalf("audit: %d upstream.refreshed, %d upstream.rotated; want 1 and 0", n, r)
		}
		if _, err := u.refresh(next.RefreshToken); err != nil || u.op.refreshGrants() != 1 {
			t.Fatalf("refresh just after an upstream refresh: %v, %d grants (want 1)", err, u.op.refreshGrants())
		}
	})
}

func TestUpstreamRotatingProvider(t *testing.T) {
	eachUp(t, true, func(t *testing.T, u *upEnv) {
		is := u.login(t, "rot")
		sid, rt := is.Session.ID, is.RefreshToken
		_, prev := u.stored(t, sid)
		for round := 1; round <= 2; round++ {
			u.advance(6 * time.Minute)
			next, err := u.refresh(rt)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			rt = next.RefreshToken
			presented, minted := u.op.record()
			if len(minted) != round || len(presented) != round || presented[round-1] != prev.RefreshToken {
				t.Fatalf("round %d: provider saw %d grants, minted %d, or not the stored refresh token", round, len(presented), len(minted))
			}
			_, cur := u.stored(t, sid)
			if cur.RefreshToken != minted[round-1] {
				t.Fatalf("round %d: the rotated refresh token is not the one stored", round)
			}
			if cur.PrevRefreshToken != prev.RefreshToken || !cur.PrevRefreshUntil.After(u.clk.Now()) {
				t.Fatalf("round %d: the previous refresh token not kept for its grace period", round)
			}
			if n := u.countOf(t, sid, ActionUpstreamRotated); n != round || u.countOf(t, sid, ActionUpstreamRefreshed) != round {
				t.Fatalf("round %d: %d upstream.rotated events", round, n)
			}
			prev = cur
		}
	})
}

func TestUpstreamServerErrorsThenSuccess(t *testing.T) {
	eachUp(t, false, func(t *testing.T, u *upEnv) {
		is := u.login(t, "flaky")
		exp0 := u.upstreamExpiry(t, "flaky", is.Session.ID)
		u.advance(6 * time.Minute)
		// mockoidc's error queue: its next two requests (token requests:
		// discovery is cached) answer 500, the third is served.
		for range 2 {
			u.op.QueueError(&mockoidc.ServerError{Code: http.StatusInternalServerError, Error: mockoidc.InternalServerError, Description: "boom"})
		}
		next, err := u.refresh(is.RefreshToken)
		if err != nil {
			t.Fatalf("refresh after two 500s: %v", err)
		}
		if n := u.op.refreshGrants(); n != 3 {
			t.Fatalf("%d refresh requests, want 3", n)
		}
		if n := u.sleeps.n(); n != 2 {
			t.Fatalf("%d backoffs, want 2", n)
		}
		if next.Session.Generation != 1 || !u.upstreamExpiry(t, "flaky", is.Session.ID).After(exp0) {
			t.Fatal("session not rotated with refreshed upstream tokens")
		}
		if u.countOf(t, is.Session.ID, ActionUpstreamRefreshed) != 1 {
			t.Fatal("no upstream.refreshed in the audit")
		}
	})
}

func TestUpstreamInvalidGrantEndsSession(t *testing.T) {
	eachUp(t, false, func(t *testing.T, u *upEnv) {
		is := u.login(t, "gone")
		u.advance(6 * time.Minute)
		u.op.QueueError(&mockoidc.ServerError{Code: http.StatusBadRequest, Error: mockoidc.InvalidGrant, Description: "grant revoked"})
		if _, err := u.refresh(is.RefreshToken); !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("refresh: %v, want ErrInvalidGrant", err)
		}
		if s := u.state(t, is.Session.ID); s != StateTerminated {
			t.Fatalf("state %q, want terminated", s)
		}
		if u.countOf(t, is.Session.ID, ActionUpstreamRefreshFailed) != 1 {
			t.Fatalf("audit %v lacks upstream.refresh_failed", u.actions(t, is.Session.ID))
		}
		if n, s := u.op.refreshGrants(), u.sleeps.n(); n != 1 || s != 0 {
			t.Fatalf("%d refresh requests and %d backoffs: invalid_grant must not be retried", n, s)
		}
		if _, err := u.refresh(is.RefreshToken); !errors.Is(err, ErrInvalidGrant) || u.op.refreshGrants() != 1 {
			t.Fatalf("refresh of the ended session: %v, %d grants", err, u.op.refreshGrants())
		}
		if u.active(t, is.AccessToken) {
			t.Fatal("access token still active after the session ended")
		}
	})
}

func TestUpstreamProviderDown(t *testing.T) {
	eachUp(t, false, func(t *testing.T, u *upEnv) {
		valid, expired := u.login(t, "down-valid"), u.login(t, "down-expired")
		u.advance(6 * time.Minute) // both inside the window
		u.op.stop(t)

		// Still valid: rotate with the old upstream tokens.
		h0 := u.hash(t, valid.Session.ID)
		next, err := u.refresh(valid.RefreshToken)
		if err != nil {
			t.Fatalf("provider down, upstream token still valid: %v", err)
		}
		h1 := u.hash(t, valid.Session.ID)
		if h1["gen"] != "1" || h1["up"] != h0["up"] || h1["upx"] != h0["upx"] {
			t.Fatal("want a rotation keeping the upstream tokens as they were")
		}
		if u.sleeps.n() == 0 || u.countOf(t, valid.Session.ID, ActionUpstreamRefreshed) != 0 {
			t.Fatal("the provider was not retried, or a refresh was audited that did not happen")
		}

		// Expired: nothing can be done; nothing changes.
		u.advance(5 * time.Minute)
		before := u.hash(t, expired.Session.ID)
		_, err = u.refresh(expired.RefreshToken)
		if !errors.Is(err, upstream.ErrUnavailable) || upstream.RetryAfter(err) <= 0 {
			t.Fatalf("provider down, upstream token expired: %v, want upstream.ErrUnavailable with a retry hint", err)
		}
		if after := u.hash(t, expired.Session.ID); !maps.Equal(before, after) {
			t.Fatalf("session changed by a failed refresh:\n%v\n%v", before, after)
		}

		// Back up: the very same refresh token works, and the upstream
		// tokens of both sessions get refreshed.
		u.op.restart(t)
		if is, err := u.refresh(expired.RefreshToken); err != nil || is.Session.Generation != 1 {
			t.Fatalf("same refresh token once the provider is back: %v", err)
		}
		if _, err := u.refresh(next.RefreshToken); err != nil {
			t.Fatal(err)
		}
		for _, is := range []*Issued{valid, expired} {
			nearTime(t, "upstream expiry", u.upstreamExpiry(t, is.Session.UserID, is.Session.ID), u.clk.Now().Add(u.op.AccessTTL))
		}
	})
}

// A provider that issues no refresh token: the upstream access token
// cannot be refreshed, which is no reason to end our session or to call
// the provider, before or after that token expires.
func TestUpstreamNoRefreshToken(t *testing.T) {
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		op := startOP(t, false)
		op.noRefresh = true
		u := newUpEnv(t, tr, op)
		is := u.login(t, "no-rt")
		if _, toks := u.stored(t, is.Session.ID); toks.RefreshToken != "" || toks.AccessToken == "" {
			t.Fatalf("stored tokens %v, want an access token and no refresh token", toks)
		}
		rt := is.RefreshToken
		for _, step := range []time.Duration{6 * time.Minute, 6 * time.Minute} { // inside the window, then expired
			u.advance(step)
			next, err := u.refresh(rt)
			if err != nil {
				t.Fatalf("refresh %v later: %v (state %q)", step, err, u.state(t, is.Session.ID))
			}
			rt = next.RefreshToken
		}
		if n := op.refreshGrants(); n != 0 || u.countOf(t, is.Session.ID, ActionUpstreamRefreshFailed) != 0 {
			t.Fatalf("%d refresh grants without a refresh token, or upstream.refresh_failed audited", n)
		}
	})
}

// After create and refresh (with rotation, so there are two of each
// upstream token), no upstream token, nor our refresh token, is anywhere
// in the store in clear text or base64, whatever the key type.
func TestUpstreamNoClearTokensInStore(t *testing.T) {
	eachUp(t, true, func(t *testing.T, u *upEnv) {
		is := u.login(t, "vault")
		sid := is.Session.ID
		_, t0 := u.stored(t, sid)
		u.advance(6 * time.Minute)
		next, err := u.refresh(is.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		sealed, t1 := u.stored(t, sid)
		if t1.AccessToken == t0.AccessToken || t1.RefreshToken == t0.RefreshToken {
			t.Fatal("the refresh did not bring new upstream tokens")
		}
		secrets := map[string]string{
			"access 1": t0.AccessToken, "refresh 1": t0.RefreshToken, "id 1": t0.IDToken,
			"access 2": t1.AccessToken, "refresh 2": t1.RefreshToken, "id 2": t1.IDToken,
			"our refresh 1": is.RefreshToken, "our refresh 2": next.RefreshToken,
		}
		values := dumpStore(t, u.env)
		var sawSealed, sawSID bool
		for _, v := range values {
			sawSealed = sawSealed || v.val == sealed
			sawSID = sawSID || strings.Contains(v.key, sid)
		}
		if !sawSealed || !sawSID {
			t.Fatalf("the scan missed the session (sealed blob seen %v, session key seen %v)", sawSealed, sawSID)
		}
		for name, s := range secrets {
			if len(s) < 20 {
				t.Fatalf("%s: implausible token", name)
			}
			needles := []string{s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s)),
				base64.URLEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s))}
			if i := strings.LastIndexByte(s, '.'); i > 0 {
				needles = append(needles, s[i+1:]) // a JWT's signature alone
			}
			for _, v := range values {
				for _, n := range needles {
					if strings.Contains(v.val, n) || strings.Contains(v.key, n) {
						t.Fatalf("%s found in clear under key %s", name, v.key)
					}
				}
			}
		}
	})
}

type kvEntry struct{ key, val string }

// dumpStore reads every key under the test's prefix, whatever its type,
// and returns each key with each string it holds.
func dumpStore(t *testing.T, e *env) []kvEntry {
	t.Helper()
	var out []kvEntry
	cursor, keys := "0", 0
	for {
		v, err := e.tr.Client.Do(e.ctx, "SCAN", cursor, "MATCH", e.cfg.KeyPrefix+"*", "COUNT", 1000)
		if err != nil {
			t.Fatal(err)
		}
		pair, _ := v.([]any)
		if len(pair) != 2 {
			t.Fatalf("SCAN reply %v", v)
		}
		batch, _ := pair[1].([]any)
		for _, k := range batch {
			key, _ := k.(string)
			keys++
			typ, err := e.tr.Client.Do(e.ctx, "TYPE", key)
			if err != nil {
				t.Fatal(err)
			}
			var cmd []any
			switch typ {
			case "string":
				cmd = []any{"GET", key}
			case "hash":
				cmd = []any{"HGETALL", key}
			case "list":
				cmd = []any{"LRANGE", key, 0, -1}
			case "set":
				cmd = []any{"SMEMBERS", key}
			case "zset":
				cmd = []any{"ZRANGE", key, 0, -1, "WITHSCORES"}
			case "stream":
				cmd = []any{"XRANGE", key, "-", "+"}
			default:
				t.Fatalf("key %s of unexpected type %v", key, typ)
			}
			val, err := e.tr.Client.Do(e.ctx, cmd...)
			if err != nil {
				t.Fatalf("%v: %v", cmd[0], err)
			}
			out = append(out, kvEntry{key, key})
			for _, s := range flatten(val) {
				out = append(out, kvEntry{key, s})
			}
		}
		if cursor, _ = pair[0].(string); cursor == "0" {
			break
		}
	}
	if keys < 3 {
		t.Fatalf("only %d keys under %s", keys, e.cfg.KeyPrefix)
	}
	return out
}

func flatten(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return nil
}
