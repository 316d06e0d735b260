package session

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
)

// check_fast.lua must change nothing but speed: on every state, the check
// script with it and the script without it (lib, risk, check) give the same
// reply and leave the store in the same state. Each case is written twice,
// under two prefixes, and each script runs on its own copy.
func TestCheckFastPathMatchesFullPath(t *testing.T) {
	withoutFast := kv.NewScript(lua("lib.lua") + lua("risk.lua") + lua("check.lua"))
	fastOnly := kv.NewScript(lua("check_fast.lua") + "\nreturn {'fell through'}\n")
	const now = int64(1_800_000_000_000)
	const sid = "0193a6f0-0000-7000-8000-00000000abcd"
	active := func() map[string]string {
		return map[string]string{"uid": "alice", "st": "active", "ca": "1", "la": "1",
			"idl": fmt.Sprint(now + 60_000), "abs": fmt.Sprint(now + 600_000), "gen": "3",
			"rh": "rh3", "ph": "rh2", "rot": fmt.Sprint(now - 5_000), "risk": "0.250", "sc": "openid",
			"ip": "203.0.113.7", "ipn": "203.0.113.0/24", "uaf": "firefox/linux", "cw": fmt.Sprint(now - 1000), "cc": "2",
			"dev": `{"os":"linux","browser":"firefox"}`}
	}
	with := func(f map[string]string, kv ...string) map[string]string {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<del>" {
				delete(f, kv[i])
			} else {
				f[kv[i]] = kv[i+1]
			}
		}
		return f
	}
	access := func() checkArgs {
		return checkArgs{base: base{Now: now, IP: "198.51.100.1", UA: "rs/1.0", Actor: "resource_server",
			Ret: 3_600_000, Tomb: 7_200_000, SID: sid}, Sub: "alice", JTI: "jti-1", AI: true, Block: 0.7}
	}
	rl := func(k string, n int) rlArg {
		return rlArg{Rule: "introspect.caller", Key: "introspect.caller:" + k, N: n, W: 60_000}
	}
	type state struct {
		session map[string]string // nil: no session
		strs    map[string]string // other string keys (rl states, rj markers), without the prefix
	}
	cases := []struct {
		name string
		st   state
		args func() checkArgs
		fast bool // the fast path is expected to answer
	}{
		{"active", state{session: active()}, access, true},
		{"active, one limit, fresh", state{session: active()}, func() checkArgs {
			a := access()
			// 60 a minute: its state lives a second, long enough to be
			// read back on a slow run (600 would be 100 ms).
			a.RL = []rlArg{rl("k1", 60)}
			return a
		}, true},
		{"active, limit with history", state{session: active(), strs: map[string]string{"rl:introspect.caller:k1": fmt.Sprint(now + 20_000)}},
			func() checkArgs { a := access(); a.RL = []rlArg{rl("k1", 10)}; return a }, true},
		{"active, two limits on one key", state{session: active(), strs: map[string]string{"rl:introspect.caller:k1": fmt.Sprint(now - 5)}},
			func() checkArgs { a := access(); a.RL = []rlArg{rl("k1", 10), rl("k1", 3)}; return a }, true},
		{"rate limited", state{session: active(), strs: map[string]string{"rl:introspect.caller:k1": fmt.Sprint(now + 60_000)}},
			func() checkArgs { a := access(); a.RL = []rlArg{rl("k1", 10)}; return a }, false},
		{"rate limited on the second rule", state{session: active(), strs: map[string]string{"rl:introspect.caller:k2": fmt.Sprint(now + 60_000)}},
			func() checkArgs { a := access(); a.RL = []rlArg{rl("k1", 10), rl("k2", 10)}; return a }, false},
		{"lockout rule present", state{session: active()}, func() checkArgs { // active, by check.lua
			a := access()
			a.LF = []lfArg{{Rule: "admin.fail", Key: "admin.fail:1.2.3.4", Th: 5, B: 1000, C: 900_000, J: 0.5}}
			return a
		}, false},
		{"revoked access token", state{session: active(), strs: map[string]string{"rj:jti-1": "1"}}, access, false},
		{"other subject", state{session: active()}, func() checkArgs { a := access(); a.Sub = "mallory"; return a }, false},
		{"suspended", state{session: with(active(), "st", "suspended")}, access, false},
		{"revoked", state{session: with(active(), "st", "revoked", "er", "logout")}, access, false},
		{"idle deadline passed", state{session: with(active(), "idl", fmt.Sprint(now))}, access, false},
		{"absolute deadline passed", state{session: with(active(), "abs", fmt.Sprint(now-1))}, access, false},
		{"no session", state{}, access, false},
		{"no risk, scope or rotation time", state{session: with(active(), "risk", "<del>", "sc", "<del>", "rot", "<del>")}, access, true},
		{"no uid", state{session: with(active(), "uid", "<del>")}, access, false},
		{"end user judged", state{session: active()}, func() checkArgs {
			a := access()
			a.HJ = true
			a.IP = "192.0.2.9"
			a.riskArgs = riskArgs{W: &DefaultRiskWeights, DW: DeviceWeights,
				IPN: "192.0.2.0/24", UAF: "edge/windows", Cad: 1 << 30, FSat: 5}
			a.DevF, a.DK = deviceFeaturesJSON(&Device{OS: "windows", Browser: "edge"}, DeviceWeights)
			return a
		}, false},
		{"current refresh token", state{session: active()}, func() checkArgs {
			a := access()
			a.Sub, a.JTI, a.RT, a.RGen, a.RH = "", "", true, 3, "rh3"
			return a
		}, true},
		{"previous refresh token", state{session: active()}, func() checkArgs {
			a := access()
			a.Sub, a.JTI, a.RT, a.RGen, a.RH = "", "", true, 2, "rh2"
			return a
		}, false},
		{"refresh token with a wrong hash", state{session: active()}, func() checkArgs {
			a := access()
			a.Sub, a.JTI, a.RT, a.RGen, a.RH = "", "", true, 3, "forged"
			return a
		}, false},
	}
	kvtest.Each(t, func(t *testing.T, tr kvtest.Named) {
		ctx := context.Background()
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				base := kvtest.Prefix(t) + fmt.Sprint(i)
				write := func(p string) {
					if tc.st.session != nil {
						var hs []any
						for k, v := range tc.st.session {
							hs = append(hs, k, v)
						}
						if _, err := tr.Client.Do(ctx, append([]any{"HSET", p + "s:" + sid}, hs...)...); err != nil {
							t.Fatal(err)
						}
					}
					for k, v := range tc.st.strs {
						if _, err := tr.Client.Do(ctx, "SET", p+k, v, "PX", 600_000); err != nil {
							t.Fatal(err)
						}
					}
				}
				run := func(p string, s *kv.Script) (any, error) {
					write(p)
					a := tc.args()
					a.P = p
					arg, err := encodeArg(nil, &a)
					if err != nil {
						t.Fatal(err)
					}
					extra, err := a.extraArgs()
					if err != nil {
						t.Fatal(err)
					}
					return tr.Client.Run(ctx, s, nil, append([]any{arg}, extra...)...)
				}
				// Each store is read right after its own run: rate-limit
				// states live for a fraction of a second, so a store read
				// later than its twin could have lost a key the twin kept.
				pf, pn := base+"f:", base+"n:"
				gotF, errF := run(pf, scriptCheck)
				sf := dumpPrefix(t, tr.Client, pf)
				gotN, errN := run(pn, withoutFast)
				sn := dumpPrefix(t, tr.Client, pn)
				if (errF != nil) != (errN != nil) {
					t.Fatalf("errors differ: with fast path %v, without %v", errF, errN)
				}
				if !reflect.DeepEqual(gotF, gotN) {
					t.Fatalf("replies differ:\nwith fast path %#v\nwithout        %#v", gotF, gotN)
				}
				if !sameStore(sf, sn) {
					t.Fatalf("stores differ:\nwith fast path %v\nwithout        %v", sf, sn)
				}
				// The fast path alone: it answers exactly its cases, and
				// falls through from the others without a single write.
				po, pi := base+"o:", base+"i:"
				gotO, errO := run(po, fastOnly)
				so := dumpPrefix(t, tr.Client, po)
				write(pi)
				si := dumpPrefix(t, tr.Client, pi)
				if errO != nil {
					t.Fatalf("fast path alone: %v", errO)
				}
				if tc.fast {
					if !reflect.DeepEqual(gotO, gotN) || !sameStore(so, sn) {
						t.Fatalf("the fast path did not answer as check.lua: %#v, want %#v\nstore %v\nwant  %v", gotO, gotN, so, sn)
					}
				} else {
					if !reflect.DeepEqual(gotO, []any{"fell through"}) {
						t.Fatalf("the fast path answered %#v; this case is check.lua's", gotO)
					}
					if !sameStore(so, si) {
						t.Fatalf("the fast path wrote before falling through:\n%v\nuntouched: %v", so, si)
					}
				}
			})
		}
	})
}

// dumpedKey is one key as dumpPrefix saw it: its type and value, and its
// PTTL in milliseconds (negative when it has none).
type dumpedKey struct {
	desc string
	pttl int64
}

func (d dumpedKey) String() string { return fmt.Sprintf("%s pttl=%dms", d.desc, d.pttl) }

// sameStore compares two dumps taken at different moments: types and
// values exactly, TTLs by presence and within two seconds, since the runs
// being compared start at different wall-clock times (rounding both to the
// second would still differ whenever they straddle a boundary).
func sameStore(a, b map[string]dumpedKey) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.desc != y.desc || (x.pttl < 0) != (y.pttl < 0) {
			return false
		}
		if d := x.pttl - y.pttl; d > 2000 || d < -2000 {
			return false
		}
	}
	return true
}

// dumpPrefix describes every key under p (prefix stripped): type, value
// and TTL. Stream entries are compared by their fields (ids are server
// times).
func dumpPrefix(t *testing.T, c kv.Client, p string) map[string]dumpedKey {
	t.Helper()
	ctx := context.Background()
	out := map[string]dumpedKey{}
	cursor := "0"
	for {
		v, err := c.Do(ctx, "SCAN", cursor, "MATCH", p+"*", "COUNT", 1000)
		if err != nil {
			t.Fatal(err)
		}
		arr := v.([]any)
		cursor = arr[0].(string)
		for _, k := range arr[1].([]any) {
			key := k.(string)
			typ, err := c.Do(ctx, "TYPE", key)
			if err != nil {
				t.Fatal(err)
			}
			var val any
			switch typ {
			case "string":
				val, err = c.Do(ctx, "GET", key)
			case "hash":
				var h any
				h, err = c.Do(ctx, "HGETALL", key)
				if err == nil {
					m := fields(h)
					keys := make([]string, 0, len(m))
					for f := range m {
						keys = append(keys, f+"="+m[f])
					}
					sort.Strings(keys)
					val = strings.Join(keys, " ")
				}
			case "zset":
				val, err = c.Do(ctx, "ZRANGE", key, 0, -1, "WITHSCORES")
			case "list":
				val, err = c.Do(ctx, "LRANGE", key, 0, -1)
			case "stream":
				var xs any
				xs, err = c.Do(ctx, "XRANGE", key, "-", "+")
				if err == nil {
					var entries []any
					for _, e := range xs.([]any) {
						entries = append(entries, e.([]any)[1])
					}
					val = entries
				}
			default:
				val = "?"
			}
			if err != nil {
				t.Fatal(err)
			}
			ttl, err := c.Do(ctx, "PTTL", key)
			if err != nil {
				t.Fatal(err)
			}
			out[strings.TrimPrefix(key, p)] = dumpedKey{desc: fmt.Sprintf("%v %v", typ, val), pttl: ttl.(int64)}
		}
		if cursor == "0" {
			return out
		}
	}
}

// Every script's files are embedded (they are read on first use now, so a
// missing one would otherwise show up only when that script first runs).
func TestEveryScriptBuilds(t *testing.T) {
	for name, s := range map[string]*kv.Script{"create": scriptCreate, "refresh": scriptRefresh, "check": scriptCheck,
		"end": scriptEnd, "revoke_access": scriptRevokeAccess, "list": scriptList, "update": scriptUpdate,
		"cleanup": scriptCleanup, "fail": scriptFail, "lease": scriptLease, "lease_take": scriptLeaseTake} {
		if len(s.Source()) == 0 || len(s.SHA()) != 40 {
			t.Errorf("script %s: %d bytes of source, SHA %q", name, len(s.Source()), s.SHA())
		}
	}
}
