package kv

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDecodeEntry(t *testing.T) {
	for _, tc := range []struct {
		body    string
		want    Result
		wantErr bool
	}{
		{body: `{"result":"OK"}`, want: Result{Val: "OK"}},
		{body: `{"result":"` + b64("bar") + `"}`, want: Result{Val: "bar"}},
		{body: `{"result":"` + b64("\x00\xff") + `"}`, want: Result{Val: "\x00\xff"}},
		{body: `{"result":""}`, want: Result{Val: ""}},
		{body: `{"result":137}`, want: Result{Val: int64(137)}},
		{body: `{"result":-9223372036854775808}`, want: Result{Val: int64(-9223372036854775808)}},
		{body: `{"result":null}`, want: Result{Err: ErrNotFound}},
		{body: ` {"result":["` + b64("a") + `",null,[1,"OK"]]} `, want: Result{Val: []any{"a", nil, []any{int64(1), "OK"}}}},
		{body: `{"result":[]}`, want: Result{Val: []any{}}},
		{body: `{"result":[1,{"error":"E1 nested"}]}`, want: Result{Val: []any{int64(1), &RedisError{Msg: "E1 nested"}}}},
		{body: `{"result":{"error":"E1 top"}}`, wantErr: true},
		{body: `{"result":[{"error":"E1","x":1}]}`, wantErr: true},
		{body: `{"error":"WRONGTYPE Operation against a key"}`, want: Result{Err: &RedisError{Msg: "WRONGTYPE Operation against a key"}}},
		{body: `{"error":null,"result":1}`, want: Result{Val: int64(1)}},
		{body: `{"result":"bar"}`, wantErr: true}, // not base64 ("bar" has 3 chars)
		{body: `{"result":1.5}`, wantErr: true},
		{body: `{"result":99999999999999999999}`, wantErr: true},
		{body: `{"result":true}`, wantErr: true},
		{body: `{"result":{"a":1}}`, wantErr: true},
		{body: `{"error":5}`, wantErr: true},
		{body: `{}`, wantErr: true},
		{body: `null`, wantErr: true},
		{body: `[]`, wantErr: true},
		{body: `{"result":1} {"result":2}`, wantErr: true},
		{body: `{"result":1}]`, wantErr: true},
		{body: `{"result": "T0s=", oops`, wantErr: true},
		{body: ``, wantErr: true},
		{body: `<html>502 Bad Gateway</html>`, wantErr: true},
		{body: `{"result":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, wantErr: true},
	} {
		got, err := decodeEntry([]byte(tc.body))
		if tc.wantErr {
			if err == nil || !errors.Is(err, errMalformed) {
				t.Errorf("decodeEntry(%s) = %#v, %v; want errMalformed", tc.body, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decodeEntry(%s) = %#v, %v; want %#v", tc.body, got, err, tc.want)
		}
	}
}

func TestDecodePipeline(t *testing.T) {
	got, err := decodePipeline([]byte(`[{"result":"OK"},{"error":"ERR value is not an integer"},{"result":2},{"result":null}]`))
	want := []Result{{Val: "OK"}, {Err: &RedisError{Msg: "ERR value is not an integer"}}, {Val: int64(2)}, {Err: ErrNotFound}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodePipeline = %#v, %v", got, err)
	}
	for _, bad := range []string{`{"result":1}`, `null`, `[{"result":1},{}]`, `[1]`} {
		if _, err := decodePipeline([]byte(bad)); !errors.Is(err, errMalformed) {
			t.Errorf("decodePipeline(%s): %v, want errMalformed", bad, err)
		}
	}
}

// FuzzDecodeRESTReply feeds arbitrary bodies to both REST decoders: they
// must never panic, must return only the documented reply types, and what
// they accept must be what an encoder of those types would have sent.
func FuzzDecodeRESTReply(f *testing.F) {
	for _, s := range []string{
		`{"result":"OK"}`, `{"result":"YmFy"}`, `{"result":null}`, `{"result":[1,"YQ==",null,[2]]}`,
		`{"error":"ERR x"}`, `[{"result":1},{"error":"NOSCRIPT"}]`, `[]`, `{"result":1e3}`, `{"result":"\u00ff"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if r, err := decodeEntry(body); err == nil {
			checkResult(t, r)
		}
		if rs, err := decodePipeline(body); err == nil {
			for _, r := range rs {
				checkResult(t, r)
			}
		}
	})
}

func checkResult(t *testing.T, r Result) {
	t.Helper()
	var re *RedisError
	switch {
	case r.Err == nil:
		checkValue(t, r.Val, 0)
		if r.Val == nil {
			t.Fatal("nil value without ErrNotFound")
		}
		// Re-encode the value the way Upstash would and decode it again.
		again, err := decodeEntry(encodeForTest(t, r.Val))
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip of %#v = %#v, %v", r.Val, again, err)
		}
	case errors.Is(r.Err, ErrNotFound), errors.As(r.Err, &re):
		if r.Val != nil {
			t.Fatalf("value %#v with error %v", r.Val, r.Err)
		}
	default:
		t.Fatalf("unexpected error type %T", r.Err)
	}
}

func checkValue(t *testing.T, v any, depth int) {
	t.Helper()
	switch x := v.(type) {
	case nil, string, int64:
	case *RedisError:
		if depth == 0 {
			t.Fatal("a RedisError value at the top level")
		}
	case []any:
		for _, e := range x {
			checkValue(t, e, depth+1)
		}
	default:
		t.Fatalf("reply type %T outside the documented set", v)
	}
}

func encodeForTest(t *testing.T, v any) []byte {
	var enc func(any) any
	enc = func(v any) any {
		switch x := v.(type) {
		case string:
			if x == "OK" {
				return x
			}
			return b64(x)
		case *RedisError:
			return map[string]string{"error": x.Msg}
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = enc(e)
			}
			return out
		}
		return v
	}
	b, err := json.Marshal(map[string]any{"result": enc(v)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzRESTWire checks the request side: whatever the bytes of a command,
// the body is valid UTF-8 JSON, and it decodes to the command itself or to
// the hex-encoded EVAL of rest_call.lua that reproduces it.
func FuzzRESTWire(f *testing.F) {
	f.Add("SET", "k", "v")
	f.Add("SET", "k\xff", "\x00\"\\\n\u2028")
	f.Add("HSET", "h", "\xc3")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		args := []string{a, b, c}
		wire, err := restWire(args)
		if err != nil {
			if !errors.Is(err, ErrInvalidArg) {
				t.Fatalf("restWire: %v", err)
			}
			return
		}
		body := appendCommand(nil, wire)
		var got []string
		if !utf8.Valid(body) || json.Unmarshal(body, &got) != nil || !reflect.DeepEqual(got, wire) {
			t.Fatalf("body %q does not decode to %q", body, wire)
		}
		if reflect.DeepEqual(wire, args) {
			return
		}
		if wire[0] != "EVAL" || wire[2] != "0" || len(wire) != len(args)+4 {
			t.Fatalf("binary command not wrapped: %q", wire)
		}
		for i, m := range wire[3] {
			w := wire[4+i]
			if m == '1' && (w != hexOf(args[i])) || m == '0' && w != args[i] {
				t.Fatalf("word %d: mask %c, sent %q for %q", i, m, w, args[i])
			}
		}
	})
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&0xf])
	}
	return b.String()
}

func TestSyncTokenMonotonic(t *testing.T) {
	var s syncToken
	for _, tc := range []struct{ in, want string }{
		{"", ""}, {"5", "5"}, {"7", "7"}, {"6", "7"}, {"", "7"}, {"12", "12"}, {"opaque-a", "opaque-a"}, {"3", "3"},
	} {
		s.observe(tc.in)
		if got := s.get(); got != tc.want {
			t.Fatalf("after %q: %q, want %q", tc.in, got, tc.want)
		}
	}
}
