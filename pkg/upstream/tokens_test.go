package upstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessiond/pkg/seal"
)

func TestNeedsRefresh(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tok := func(exp time.Time) Tokens { return Tokens{AccessToken: "a", RefreshToken: "r", Expiry: exp} }
	for _, tc := range []struct {
		name   string
		t      Tokens
		window time.Duration
		want   bool
	}{
		{"outside the default window", tok(now.Add(5*time.Minute + time.Second)), 0, false},
		{"at the edge of the default window", tok(now.Add(5 * time.Minute)), 0, true},
		{"inside the default window", tok(now.Add(time.Minute)), 0, true},
		{"already expired", tok(now.Add(-time.Hour)), 0, true},
		{"custom window, outside", tok(now.Add(11 * time.Minute)), 10 * time.Minute, false},
		{"custom window, inside", tok(now.Add(9 * time.Minute)), 10 * time.Minute, true},
		{"unknown expiry", tok(time.Time{}), 0, false},
		{"no refresh token", Tokens{AccessToken: "a", Expiry: now}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NeedsRefresh(tc.t, now, tc.window); got != tc.want {
				t.Fatalf("NeedsRefresh = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestProviderNeedsRefreshUsesConfig(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	p, err := New(Config{Issuer: "https://op.example.test", ClientID: "c", RefreshWindow: time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := Tokens{RefreshToken: "r", Expiry: clk.Now().Add(2 * time.Minute)}
	if p.NeedsRefresh(tok) {
		t.Fatal("refresh wanted 2m before expiry with a 1m window")
	}
	clk.Advance(61 * time.Second)
	if !p.NeedsRefresh(tok) {
		t.Fatal("no refresh wanted 59s before expiry with a 1m window")
	}
}

func sampleTokens() Tokens {
	return Tokens{
		AccessToken: "at-secret-1", RefreshToken: "rt-secret-2", IDToken: "idt-secret-3",
		TokenType: "Bearer", Scope: "openid email",
		Expiry:           time.Unix(1750000000, 0).UTC(),
		PrevRefreshToken: "prt-secret-4", PrevRefreshUntil: time.Unix(1750000100, 0).UTC(),
	}
}

func TestTokensJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, in := range []Tokens{sampleTokens(), {}, {AccessToken: "only"}} {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out Tokens
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if out != in {
			t.Fatalf("round trip: %#v != %#v", out, in)
		}
	}
	b, _ := json.Marshal(Tokens{})
	if string(b) != "{}" {
		t.Fatalf("empty tokens marshal to %s, want {}", b)
	}
}

func TestTokensJSONRefuses(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`[]`, `{"exp":-1}`, `{"exp":253402300800}`, `{"pru":-5}`, `{"at":1}`, `nope`} {
		var out Tokens
		if err := json.Unmarshal([]byte(in), &out); err == nil {
			t.Errorf("Unmarshal(%s) accepted", in)
		}
	}
	var out Tokens
	if err := json.Unmarshal([]byte(`{"at":"x","future_field":[1,2]}`), &out); err != nil || out.AccessToken != "x" {
		t.Fatalf("unknown fields must be ignored: %v %v", out, err)
	}
}

func TestTokensNeverPrinted(t *testing.T) {
	t.Parallel()
	tok := sampleTokens()
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("refreshed", "tokens", tok)
	for _, out := range []string{
		fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), fmt.Sprintf("%v", &tok), logBuf.String(),
	} {
		for _, secret := range []string{tok.AccessToken, tok.RefreshToken, tok.IDToken, tok.PrevRefreshToken} {
			if strings.Contains(out, secret) {
				t.Fatalf("%q printed in %q", secret, out)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(tok), "refresh:set") {
		t.Fatalf("String = %q, want presence markers", tok)
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	now := time.Unix(1750000000, 0)
	cur := sampleTokens()
	cur.PrevRefreshUntil = now.Add(time.Minute)
	next := Tokens{AccessToken: "at-new", RefreshToken: cur.RefreshToken, Expiry: now.Add(time.Hour)}
	got := cur.merge(next, now)
	want := Tokens{AccessToken: "at-new", RefreshToken: cur.RefreshToken, IDToken: cur.IDToken, TokenType: cur.TokenType,
		Scope: cur.Scope, Expiry: now.Add(time.Hour), PrevRefreshToken: cur.PrevRefreshToken, PrevRefreshUntil: cur.PrevRefreshUntil}
	if got != want {
		t.Fatalf("merge = %#v", got)
	}
	// Past its grace, the previous refresh token is dropped.
	if got := cur.merge(next, now.Add(2*time.Minute)); got.PrevRefreshToken != "" {
		t.Fatal("expired previous refresh token carried over")
	}
	// A rotation in next wins over cur's previous token.
	next.RefreshToken, next.PrevRefreshToken, next.PrevRefreshUntil = "rt-newer", cur.RefreshToken, now.Add(time.Minute)
	if got := cur.merge(next, now); got.PrevRefreshToken != cur.RefreshToken {
		t.Fatal("rotation in the new tokens lost")
	}
}

func TestSealTokens(t *testing.T) {
	t.Parallel()
	s, err := seal.New(bytes.Repeat([]byte{3}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := seal.New(bytes.Repeat([]byte{4}, seal.KeySize))
	tok := sampleTokens()
	text, err := SealTokens(s, "sid-A", tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, tok.IDToken, tok.PrevRefreshToken, "secret"} {
		if strings.Contains(text, secret) {
			t.Fatalf("sealed text contains %q", secret)
		}
	}
	got, err := OpenTokens(s, "sid-A", text)
	if err != nil || got != tok {
		t.Fatalf("OpenTokens = %#v, %v", got, err)
	}

	tampered := []byte(text)
	tampered[len(tampered)/2] ^= 1
	for _, tc := range []struct {
		name, sid, text string
		s               *seal.Sealer
	}{
		{"other session id", "sid-B", text, s},
		{"other key", "sid-A", text, other},
		{"tampered", "sid-A", string(tampered), s},
		{"truncated", "sid-A", text[:len(text)-4], s},
		{"not base64", "sid-A", "%%%", s},
		{"empty", "sid-A", "", s},
		{"empty sid", "", text, s},
		{"nil sealer", "sid-A", text, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OpenTokens(tc.s, tc.sid, tc.text)
			if !errors.Is(err, seal.ErrOpen) || got != (Tokens{}) {
				t.Fatalf("OpenTokens = %v, %v; want ErrOpen", got, err)
			}
		})
	}
	if _, err := SealTokens(s, "", tok); err == nil {
		t.Fatal("sealed with an empty session id")
	}
	if _, err := SealTokens(nil, "sid", tok); err == nil {
		t.Fatal("sealed with a nil sealer")
	}
}

func FuzzTokensJSON(f *testing.F) {
	b, _ := json.Marshal(sampleTokens())
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"exp":1e3,"pru":"x"}`))
	f.Add([]byte(`{"at":"\u0000","exp":253402300799}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var a Tokens
		if err := json.Unmarshal(in, &a); err != nil {
			return
		}
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("accepted %q but cannot marshal it: %v", in, err)
		}
		var b Tokens
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("cannot read back %s: %v", out, err)
		}
		if a != b {
			t.Fatalf("round trip changed %#v into %#v", a, b)
		}
	})
}
