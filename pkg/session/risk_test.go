package session

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionkit/sessiond/pkg/kv"
)

// The Lua similarity in risk.lua and the Go Similarity must agree bit for
// bit, or the threshold would mean different things in the two places.
func TestSimilarityLuaTwin(t *testing.T) {
	e := newEnv(t, nil)
	probe := kv.NewScript(lua("lib.lua") + lua("risk.lua") + `
local s, ok = similarity(A.a, A.b)
return {string.format('%.17g', s), ok and 1 or 0}`)
	rng := rand.New(rand.NewPCG(1, 2))
	fieldsList := make([]string, 0, len(DeviceWeights)+1)
	for k := range DeviceWeights {
		fieldsList = append(fieldsList, k)
	}
	fieldsList = append(fieldsList, "unweighted_field")
	slices.Sort(fieldsList)
	gen := func() map[string]string {
		m := map[string]string{}
		for _, f := range fieldsList {
			if rng.IntN(3) > 0 {
				m[f] = strconv.Itoa(rng.IntN(3))
			}
		}
		return m
	}
	for i := 0; i < 300; i++ {
		a, b := gen(), gen()
		if i == 0 {
			a, b = map[string]string{}, map[string]string{"os": "x"}
		}
		want, wantOK := Similarity(a, b)
		arg, _ := json.Marshal(struct {
			base
			A map[string]string `json:"a"`
			B map[string]string `json:"b"`
		}{base: base{P: e.cfg.KeyPrefix}, A: a, B: b})
		dw, err := floatMapJSON(DeviceWeights) // ARGV[2], as the service sends it
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.tr.Client.Run(context.Background(), probe, nil, arg, dw)
		if err != nil {
			t.Fatal(err)
		}
		r := v.([]any)
		got, _ := strconv.ParseFloat(r[0].(string), 64)
		if got != want || (r[1] == int64(1)) != wantOK {
			t.Fatalf("case %d: lua %v/%v, go %v/%v for %v vs %v", i, got, r[1], want, wantOK, a, b)
		}
	}
}

// Each named weight moves the score by exactly its amount, alone.
func TestRiskWeightsOneByOne(t *testing.T) {
	w := DefaultRiskWeights
	base := client("203.0.113.7", chromeUA)
	cases := []struct {
		name   string
		req    func(e *env, rt string) RefreshRequest
		want   float64
		events []string
	}{
		{"nothing changed", func(e *env, rt string) RefreshRequest {
			return RefreshRequest{RefreshToken: rt, Client: base, Device: laptop()}
		}, 0, nil},
		{"new IP, same /24 (IPNear)", func(e *env, rt string) RefreshRequest {
			return RefreshRequest{RefreshToken: rt, Client: client("203.0.113.99", chromeUA), Device: laptop()}
		}, w.IPNear, []string{"ip.changed"}},
		{"new network (IPFar)", func(e *env, rt string) RefreshRequest {
			return RefreshRequest{RefreshToken: rt, Client: client("192.0.2.1", chromeUA), Device: laptop()}
		}, w.IPFar, []string{"ip.changed"}},
		{"other browser family (UserAgent)", func(e *env, rt string) RefreshRequest {
			return RefreshRequest{RefreshToken: rt, Client: client("203.0.113.7", firefoxUA), Device: laptop()}
		}, w.UserAgent, nil},
		{"wholly different device (Device)", func(e *env, rt string) RefreshRequest {
			d := phone()
			d.UserAgent = chromeUA
			return RefreshRequest{RefreshToken: rt, Client: base, Device: d}
		}, w.Device * (1 - mustSim(laptop(), func() *Device { d := phone(); d.UserAgent = chromeUA; return d }())), []string{"device.mismatch"}},
		{"no fingerprint presented", func(e *env, rt string) RefreshRequest {
			return RefreshRequest{RefreshToken: rt, Client: base}
		}, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			is := e.create(t, "weights")
			r, err := e.Refresh(e.ctx, tc.req(e, is.RefreshToken))
			if tc.want >= DefaultRiskBlock {
				if !errors.Is(err, ErrInvalidGrant) {
					t.Fatalf("score %.3f should block: %v", tc.want, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			list, _ := e.List(e.ctx, "weights", r.Session.ID, Client{})
			if got := list[0].RiskScore; !near(got, tc.want) {
				t.Fatalf("risk = %.3f, want %.3f", got, tc.want)
			}
			acts := e.actions(t, is.Session.ID)
			for _, ev := range tc.events {
				if !slices.Contains(acts, ev) {
					t.Errorf("missing %s in %v", ev, acts)
				}
			}
		})
	}

	t.Run("cadence", func(t *testing.T) {
		e := newEnv(t, nil)
		is := e.create(t, "cadence")
		rt := is.RefreshToken
		var last *Issued
		for i := 0; i <= w.CadencePerMinute; i++ {
			r, err := e.Refresh(e.ctx, RefreshRequest{RefreshToken: rt, Client: base, Device: laptop()})
			if err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
			rt, last = r.RefreshToken, r
		}
		list, _ := e.List(e.ctx, "cadence", last.Session.ID, Client{})
		if !near(list[0].RiskScore, w.Cadence) {
			t.Fatalf("risk after %d refreshes in a minute = %.3f, want %.3f", w.CadencePerMinute+1, list[0].RiskScore, w.Cadence)
		}
	})

	t.Run("failures", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { one := 1.0; c.RateLimitScale = &one })
		is := e.create(t, "failures")
		for i := 0; i < 2; i++ {
			if _, err := e.refresh("rt1.garbage"); !errors.Is(err, ErrInvalidGrant) {
				t.Fatal(err)
			}
		}
		r, err := e.refresh(is.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		list, _ := e.List(e.ctx, "failures", r.Session.ID, Client{})
		want := w.Failures * 2 / float64(w.FailuresSaturate)
		if !near(list[0].RiskScore, want) {
			t.Fatalf("risk after 2 failures = %.3f, want %.3f", list[0].RiskScore, want)
		}
	})
}

// The two scenarios issue 6 names.
func TestHijackScenarios(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		is := e.create(t, "traveller")
		// Same device, new /24: passes, with ip.changed.
		r, err := e.Refresh(e.ctx, RefreshRequest{RefreshToken: is.RefreshToken, Client: client("198.51.100.20", chromeUA), Device: laptop()})
		if err != nil {
			t.Fatalf("same device from a new network refused: %v", err)
		}
		if !slices.Contains(e.actions(t, is.Session.ID), "ip.changed") {
			t.Fatal("no ip.changed")
		}
		// A different device from yet another network: refused, suspended.
		_, err = e.Refresh(e.ctx, RefreshRequest{RefreshToken: r.RefreshToken, Client: client("192.0.2.200", firefoxUA), Device: phone()})
		if !errors.Is(err, ErrInvalidGrant) {
			t.Fatalf("hijack refresh: %v", err)
		}
		if st := e.state(t, is.Session.ID); st != StateSuspended {
			t.Fatalf("state = %q, want suspended", st)
		}
		if e.active(t, r.AccessToken) {
			t.Fatal("suspended session's access token active")
		}
		acts := e.actions(t, is.Session.ID)
		for _, want := range []string{"device.mismatch", "hijack.suspected", "session.suspended"} {
			if !slices.Contains(acts, want) {
				t.Errorf("missing %s", want)
			}
		}
	})
}

func TestIntrospectHijackCheck(t *testing.T) {
	e := newEnv(t, nil)
	is := e.create(t, "rs-user")
	eu := client("203.0.113.8", chromeUA)
	in, err := e.Introspect(e.ctx, is.AccessToken, IntrospectRequest{Caller: "rs", EndUser: &eu})
	if err != nil || !in.Active {
		t.Fatalf("same user agent, same /24: %v %+v", err, in)
	}
	bad := Client{IP: netip.MustParseAddr("192.0.2.1"), UserAgent: firefoxUA}
	e.cfg.RiskBlock = 0.5 // ua + far network = 0.5
	in, err = e.Introspect(e.ctx, is.AccessToken, IntrospectRequest{Caller: "rs", EndUser: &bad})
	if err != nil || in.Active {
		t.Fatalf("hijacked introspection: %v %+v", err, in)
	}
	if e.state(t, is.Session.ID) != StateSuspended {
		t.Fatal("not suspended")
	}
}

func mustSim(a, b *Device) float64 {
	s, _ := Similarity(a.Features(), b.Features())
	return s
}

func near(a, b float64) bool { d := a - b; return d < 0.0015 && d > -0.0015 }

// The stored fingerprint is compared as text first (the same features
// encode to the same text), and by field otherwise: a session whose stored
// text differs from what the service sends now (another key order, as
// written before this encoding) but holds the same features scores 0 with
// similarity 1, and a real change is still seen.
func TestDeviceCompareTextThenFields(t *testing.T) {
	e := newEnv(t, nil)
	is := e.create(t, "devtext")
	key := e.cfg.KeyPrefix + "s:" + is.Session.ID
	stored, err := e.tr.Client.Do(e.ctx, "HGET", key, "dev")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := deviceFeaturesJSON(laptop(), DeviceWeights)
	if stored != want {
		t.Fatalf("stored dev %v, want the sorted features text %s", stored, want)
	}
	// Rewrite it with the keys in reverse order: same features, other text.
	var f map[string]string
	if err := json.Unmarshal([]byte(want), &f); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(f))
	slices.Reverse(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(f[k])
		b.Write(kj)
		b.WriteString(":")
		b.Write(vj)
	}
	b.WriteString("}")
	if b.String() == want {
		t.Fatal("reversed text equals the sorted one; the test needs two fields at least")
	}
	if _, err := e.tr.Client.Do(e.ctx, "HSET", key, "dev", b.String()); err != nil {
		t.Fatal(err)
	}
	r, err := e.refresh(is.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	list, _ := e.List(e.ctx, "devtext", r.Session.ID, Client{})
	if list[0].RiskScore != 0 || slices.Contains(e.actions(t, is.Session.ID), "device.mismatch") {
		t.Fatalf("same features in another order: risk %.3f, events %v", list[0].RiskScore, e.actions(t, is.Session.ID))
	}
	other := laptop()
	other.OS = "Windows"
	other.Platform = "Win32"
	_, err = e.Refresh(e.ctx, RefreshRequest{RefreshToken: r.RefreshToken, Client: client("203.0.113.7", chromeUA), Device: other})
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	list, _ = e.List(e.ctx, "devtext", r.Session.ID, Client{})
	if list[0].RiskScore <= 0 {
		t.Fatalf("another OS and platform scored %.3f", list[0].RiskScore)
	}
}

// A device without a single feature (blank fields only) is kept for
// display, but stores no fingerprint: the first refresh with a real device
// records that one.
func TestFeaturelessDeviceThenReal(t *testing.T) {
	e := newEnv(t, nil)
	is, err := e.Create(e.ctx, CreateRequest{UserID: "blank", Client: client("203.0.113.7", chromeUA), Device: &Device{OS: "  "}})
	if err != nil {
		t.Fatal(err)
	}
	key := e.cfg.KeyPrefix + "s:" + is.Session.ID
	h, err := e.tr.Client.Do(e.ctx, "HMGET", key, "dev", "dvj")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.([]any); got[0] != nil || got[1] == nil {
		t.Fatalf("dev, dvj = %v: want no fingerprint and the device as sent", got)
	}
	if _, err := e.refresh(is.RefreshToken); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	dev, err := e.tr.Client.Do(e.ctx, "HGET", key, "dev")
	want, _ := deviceFeaturesJSON(laptop(), DeviceWeights)
	if err != nil || dev != want {
		t.Fatalf("dev after a refresh with a real device = %v (%v), want %s", dev, err, want)
	}
}
