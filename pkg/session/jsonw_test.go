package session

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// The hand-written encoders must give the very bytes encoding/json gives
// for the same values: the scripts decode them, and a difference (a field
// name, an omitempty, an escape) would change what the store sees.

var jsonStrings = []string{
	"", "a", "sd:", "203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64) \"quoted\" \\ back",
	"<script>&amp;</script>", "tab\there\nnew\rret\bbs\fff", "\x00\x01\x1f\x7f", "é ü 日本 🙂",
	"\u2028\u2029", "bad \xff\xfe utf8 \xc3", "\xed\xa0\x80 surrogate", "key-0123456789ab",
}

var jsonFloats = []float64{0, math.Copysign(0, -1), 0.7, 0.8, 1, 0.45, 0.25, 1e-7, 1.5e-7, 1e-6, 123456789,
	1e20, 1e21, 1.234e22, -0.3, 0.019825533716723243, math.SmallestNonzeroFloat64, math.MaxFloat64}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randomBase(r *rand.Rand) base {
	b := base{P: pick(r, jsonStrings), Now: r.Int64(), IP: pick(r, jsonStrings), UA: pick(r, jsonStrings),
		Actor: pick(r, jsonStrings), Ret: r.Int64N(1 << 40), Tomb: -r.Int64N(5), UID: pick(r, jsonStrings), SID: pick(r, jsonStrings)}
	switch r.IntN(3) {
	case 1:
		b.RL = []rlArg{}
	case 2:
		for range 1 + r.IntN(3) {
			b.RL = append(b.RL, rlArg{Rule: pick(r, jsonStrings), Key: pick(r, jsonStrings), N: r.IntN(1e6) - 5, W: r.Int64()})
		}
	}
	switch r.IntN(3) {
	case 1:
		b.LF = []lfArg{}
	case 2:
		for range 1 + r.IntN(3) {
			b.LF = append(b.LF, lfArg{Rule: pick(r, jsonStrings), Key: pick(r, jsonStrings), Th: r.IntN(20), B: r.Int64(),
				C: r.Int64(), J: pick(r, jsonFloats)})
		}
	}
	return b
}

func randomRisk(r *rand.Rand) riskArgs {
	ra := riskArgs{DevJ: pick(r, jsonStrings), IPN: pick(r, jsonStrings), UAF: pick(r, jsonStrings),
		Cad: r.IntN(100) - 3, FSat: r.IntN(10)}
	if r.IntN(2) == 0 {
		ra.W = &RiskWeights{Device: pick(r, jsonFloats), UserAgent: pick(r, jsonFloats), IPNear: pick(r, jsonFloats),
			IPFar: pick(r, jsonFloats), Cadence: pick(r, jsonFloats), CadencePerMinute: 12,
			Failures: pick(r, jsonFloats), FailuresSaturate: 5}
	}
	switch r.IntN(3) {
	case 1:
		ra.DW = map[string]float64{}
	case 2:
		ra.DW = DeviceWeights
	}
	if r.IntN(2) == 0 {
		ra.DK = true
	}
	return ra
}

func checkSame(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := encodeArg(nil, v)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("errors differ: encoding/json %v, ours %v", werr, gerr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encodings differ:\nours: %s\njson: %s", got, want)
	}
}

func TestArgsEncodeLikeEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for i := 0; i < 3000; i++ {
		checkSame(t, &checkArgs{base: randomBase(r), Sub: pick(r, jsonStrings), JTI: pick(r, jsonStrings),
			RT: r.IntN(2) == 0, RGen: r.Uint32(), RH: pick(r, jsonStrings), AI: r.IntN(2) == 0, HJ: r.IntN(2) == 0,
			Block: pick(r, jsonFloats), riskArgs: randomRisk(r)})
		checkSame(t, &refreshArgs{base: randomBase(r), Gen: r.Uint32(), H: pick(r, jsonStrings), NH: pick(r, jsonStrings),
			Idle: r.Int64(), Grace: r.Int64N(3), Slack: r.Int64(), Block: pick(r, jsonFloats), Thr: pick(r, jsonFloats),
			UpW: r.Int64(), Up: pick(r, jsonStrings), UpX: r.Int64N(3), UpRot: r.IntN(2) == 0, UpSeen: r.Int64N(3) - 1,
			UpSkip: r.IntN(2) == 0, Hist: r.IntN(60), IPK: r.IntN(12), riskArgs: randomRisk(r)})
		checkSame(t, &failArgs{base: randomBase(r)})
	}
}

func TestArgsEncodeRefusesWhatEncodingJSONRefuses(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		checkSame(t, &checkArgs{Block: f})
		checkSame(t, &refreshArgs{riskArgs: riskArgs{W: &RiskWeights{IPFar: f}}})
		checkSame(t, &refreshArgs{riskArgs: riskArgs{DW: map[string]float64{"a": f}}})
		checkSame(t, &failArgs{base: base{LF: []lfArg{{J: f}}}})
	}
}

func TestIntrospectionJSONLikeEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	type wire struct {
		Active    bool   `json:"active"`
		TokenType string `json:"token_type"`
		Sub       string `json:"sub"`
		Sid       string `json:"sid"`
		Jti       string `json:"jti"`
		Iss       string `json:"iss"`
		Aud       string `json:"aud"`
		Iat       int64  `json:"iat"`
		Exp       int64  `json:"exp"`
		Scope     string `json:"scope,omitempty"`
	}
	for i := 0; i < 2000; i++ {
		in := &Introspection{Active: r.IntN(5) != 0, TokenType: pick(r, jsonStrings), Subject: pick(r, jsonStrings),
			SessionID: pick(r, jsonStrings), JTI: pick(r, jsonStrings), Issuer: pick(r, jsonStrings),
			Audience: pick(r, jsonStrings), IssuedAt: r.Int64() - r.Int64(), ExpiresAt: r.Int64(), Scope: pick(r, jsonStrings),
			RiskScore: pick(r, jsonFloats)}
		want := []byte(`{"active":false}`)
		if in.Active {
			want, _ = json.Marshal(wire{true, in.TokenType, in.Subject, in.SessionID, in.JTI, in.Issuer, in.Audience,
				in.IssuedAt, in.ExpiresAt, in.Scope})
		}
		if got := in.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON:\nours: %s\njson: %s", got, want)
		}
		// Through encoding/json (MarshalJSON), as any caller marshalling
		// a struct that holds one sees it.
		got, err := json.Marshal(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("json.Marshal: %v\nours: %s\njson: %s", err, got, want)
		}
	}
	var nilIn *Introspection
	if got := nilIn.AppendJSON(nil); string(got) != `{"active":false}` {
		t.Fatalf("nil: %s", got)
	}
}

func FuzzJSONFloat(f *testing.F) {
	for _, x := range jsonFloats {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		want, werr := json.Marshal(x)
		got, gerr := appendJSONFloat(nil, x)
		if (werr != nil) != (gerr != nil) || (werr == nil && !bytes.Equal(got, want)) {
			t.Fatalf("%v: ours %s (%v), json %s (%v)", x, got, gerr, want, werr)
		}
	})
}

// The cached encoding of a weight map must never outlive a change to it.
func TestFloatMapCacheFollowsChanges(t *testing.T) {
	m := map[string]float64{}
	for k, v := range DeviceWeights {
		m[k] = v
	}
	a := &refreshArgs{riskArgs: riskArgs{DW: m}}
	checkSame(t, a)
	checkSame(t, a) // from the cache
	m["os"] = 7
	checkSame(t, a)
	m["zero"] = 0
	checkSame(t, a)
	m["zero"] = math.Copysign(0, -1)
	checkSame(t, a)
	delete(m, "os")
	m["os2"] = 2
	checkSame(t, a)
	m["nan"] = math.NaN()
	checkSame(t, a)
	delete(m, "nan")
	checkSame(t, &refreshArgs{riskArgs: riskArgs{DW: DeviceWeights}})
	checkSame(t, a)
}

// floatMapJSON (the device weights sent as ARGV[2]) writes what
// encoding/json writes, whether it encodes or reuses its last encoding.
func TestFloatMapJSONMatchesEncodingJSON(t *testing.T) {
	other := map[string]float64{"a": 1, "b": -0.5, "c": 1e21}
	for i, m := range []map[string]float64{DeviceWeights, DeviceWeights, other, DeviceWeights, {}, other} {
		got, err := floatMapJSON(m)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(m)
		if string(got) != string(want) {
			t.Fatalf("case %d: %s, want %s", i, got, want)
		}
	}
}

func randomDevice(r *rand.Rand) *Device {
	s := func() string {
		v := pick(r, jsonStrings)
		switch r.IntN(4) {
		case 0:
			return ""
		case 1:
			return "  " + strings.ToUpper(v) + " "
		}
		return v
	}
	ip := func() *int {
		if r.IntN(3) == 0 {
			return nil
		}
		v := r.IntN(5000) - 1000
		return &v
	}
	fp := func() *float64 {
		if r.IntN(3) == 0 {
			return nil
		}
		v := pick(r, jsonFloats)
		return &v
	}
	bp := func() *bool {
		if r.IntN(3) == 0 {
			return nil
		}
		v := r.IntN(2) == 0
		return &v
	}
	d := &Device{UserAgent: s(), Platform: s(), OS: s(), OSVersion: s(), Browser: s(), BrowserVersion: s(),
		DeviceType: s(), DeviceVendor: s(), DeviceModel: s(), Language: s(), Timezone: s(),
		TimezoneOffset: ip(), ScreenWidth: ip(), ScreenHeight: ip(), ColorDepth: ip(), PixelRatio: fp(),
		HardwareConcurrency: ip(), DeviceMemory: fp(), TouchPoints: ip(), CookiesEnabled: bp(), DoNotTrack: bp(),
		WebGLVendor: s(), WebGLRenderer: s(), CanvasHash: s(), AudioHash: s(), FontsHash: s()}
	switch r.IntN(4) {
	case 1:
		d.Languages = []string{}
	case 2:
		d.Languages = []string{""}
	case 3:
		for range 1 + r.IntN(4) {
			d.Languages = append(d.Languages, s())
		}
	}
	return d
}

// checkDeviceEncodings compares the hand-written fingerprint encodings
// with encoding/json over Features (TestFeaturesLiteral pins Features
// itself) and over the Device.
func checkDeviceEncodings(t *testing.T, d *Device) {
	t.Helper()
	f := d.Features()
	want, wantWeighted := "", false
	if len(f) > 0 {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		want = string(b)
		for k := range f {
			if DeviceWeights[k] > 0 {
				wantWeighted = true
			}
		}
	}
	got, weighted := deviceFeaturesJSON(d, DeviceWeights)
	if got != want || weighted != wantWeighted {
		t.Fatalf("features of %+v:\n got %s (weighted %v)\nwant %s (weighted %v)", d, got, weighted, want, wantWeighted)
	}
	wantJ := ""
	if b, err := json.Marshal(d); err == nil {
		wantJ = string(b)
	}
	if gotJ := deviceJSON(d); gotJ != wantJ {
		t.Fatalf("device JSON of %+v:\n got %s\nwant %s", d, gotJ, wantJ)
	}
}

func TestDeviceEncodingsMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	checkDeviceEncodings(t, &Device{})
	for range 3000 {
		checkDeviceEncodings(t, randomDevice(r))
	}
}

func FuzzDeviceEncodings(f *testing.F) {
	f.Add([]byte(`{"user_agent":"Mozilla/5.0","os":"Linux","screen_width":1920,"pixel_ratio":1.25,"languages":["en-US","FR"],"cookies_enabled":true}`))
	f.Add([]byte(`{"languages":[""],"device_memory":0.5,"timezone_offset":-60}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDevice(data)
		if err != nil || d == nil {
			return
		}
		checkDeviceEncodings(t, d)
	})
}

// Features' normalisation, spelled out: trimmed and lower-cased strings,
// blank ones left out, languages joined (present even when blank), numbers
// and booleans as text.
func TestFeaturesLiteral(t *testing.T) {
	i := func(v int) *int { return &v }
	f := func(v float64) *float64 { return &v }
	b := func(v bool) *bool { return &v }
	d := &Device{UserAgent: "  Mozilla/5.0 X  ", OS: "Linux", Browser: "   ", Languages: []string{" en-US", "FR "},
		TimezoneOffset: i(-60), ScreenWidth: i(1920), PixelRatio: f(1.25), DeviceMemory: f(1234567),
		CookiesEnabled: b(true), DoNotTrack: b(false), CanvasHash: "ABC"}
	want := map[string]string{"user_agent": "mozilla/5.0 x", "os": "linux", "languages": "en-us,fr",
		"timezone_offset": "-60", "screen_width": "1920", "pixel_ratio": "1.25", "device_memory": "1.23457e+06",
		"cookies_enabled": "true", "do_not_track": "false", "canvas_hash": "abc"}
	if got := d.Features(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Features = %v\nwant       %v", got, want)
	}
	if got := (&Device{Languages: []string{" "}}).Features(); !reflect.DeepEqual(got, map[string]string{"languages": ""}) {
		t.Fatalf("blank languages: %v", got)
	}
	if got := (*Device)(nil).Features(); len(got) != 0 {
		t.Fatalf("nil device: %v", got)
	}
}
