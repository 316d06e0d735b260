package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func wantError(t *testing.T, err error, status int, code, descPart string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error %d %s, got %v", status, code, err)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("want %d %s, got %d %s (%s)", status, code, e.Status, e.Code, e.Description)
	}
	if descPart != "" && !strings.Contains(e.Description, descPart) {
		t.Fatalf("description %q does not mention %q", e.Description, descPart)
	}
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("a", MaxBodyBytes+1)
	cases := []struct {
		name      string
		ct        string
		body      string
		allowForm bool
		wantKind  bodyKind
		status    int
		code      string
	}{
		{"json", "application/json", `{"a":1}`, false, bodyJSON, 0, ""},
		{"json utf-8 charset", "application/json; charset=UTF-8", `{}`, false, bodyJSON, 0, ""},
		{"json latin1", "application/json; charset=latin1", `{}`, false, 0, 415, CodeUnsupportedMediaType},
		{"form allowed", "application/x-www-form-urlencoded", `a=b`, true, bodyForm, 0, ""},
		{"form refused", "application/x-www-form-urlencoded", `a=b`, false, 0, 415, CodeUnsupportedMediaType},
		{"text", "text/plain", `{}`, true, 0, 415, CodeUnsupportedMediaType},
		{"bad media type", "application/json; ;;", `{}`, false, 0, 415, CodeUnsupportedMediaType},
		{"no content type", "", `{}`, false, 0, 415, CodeUnsupportedMediaType},
		{"empty no type", "", ``, false, bodyEmpty, 0, ""},
		{"empty json", "application/json", ``, false, bodyEmpty, 0, ""},
		{"too large", "application/json", big, false, 0, 413, CodePayloadTooLarge},
		{"invalid utf-8", "application/json", "{\"a\":\"\xff\"}", false, 0, 400, CodeInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			kind, body, err := readBody(httptest.NewRecorder(), r, tc.allowForm)
			if tc.status != 0 {
				wantError(t, err, tc.status, tc.code, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if kind != tc.wantKind || string(body) != tc.body {
				t.Fatalf("got kind %d body %q", kind, body)
			}
		})
	}
}

// A body larger than the limit without a Content-Length (chunked) is cut
// off by MaxBytesReader, not read whole.
func TestReadBodyChunkedTooLarge(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat(" ", MaxBodyBytes+10)))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	_, _, err := readBody(httptest.NewRecorder(), r, false)
	wantError(t, err, 413, CodePayloadTooLarge, "64 KiB")
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	type inner struct {
		N int `json:"n"`
	}
	type target struct {
		S     string            `json:"s"`
		B     bool              `json:"b"`
		In    inner             `json:"in"`
		L     []string          `json:"l"`
		M     map[string]string `json:"m"`
		Other *int              `json:"other"`
	}
	cases := []struct {
		name, body, desc string
	}{
		{"wrong type names field", `{"s": 5}`, "s must be a string"},
		{"nested field", `{"in": {"n": "x"}}`, "in.n must be a number"},
		{"bool", `{"b": "yes"}`, "b must be a boolean"},
		{"array", `{"l": "x"}`, "l must be an array"},
		{"map value", `{"m": {"k": 1}}`, "m values must be a string"},
		{"top-level array", `[1,2]`, "JSON object"},
		{"top-level string", `"x"`, "JSON object"},
		{"top-level null", `null`, "JSON object"},
		{"trailing garbage", `{"s":"a"} x`, "after the JSON object"},
		{"two objects", `{"s":"a"}{"s":"b"}`, "after the JSON object"},
		{"syntax", `{"s":}`, "malformed JSON"},
		{"truncated", `{"s":"a"`, "malformed JSON"},
		{"deep", strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40), "nested too deeply"},
		{"deep arrays", `{"l":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`, "nested too deeply"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v target
			wantError(t, decodeJSON([]byte(tc.body), &v), 400, CodeInvalidRequest, tc.desc)
		})
	}
	t.Run("unknown fields tolerated", func(t *testing.T) {
		var v target
		if err := decodeJSON([]byte(`{"s":"a","zzz":{"deep":[1,2,{"x":null}]},"b":true} `), &v); err != nil {
			t.Fatal(err)
		}
		if v.S != "a" || !v.B {
			t.Fatalf("decoded %+v", v)
		}
	})
	t.Run("braces inside strings do not count as depth", func(t *testing.T) {
		var v target
		if err := decodeJSON([]byte(`{"s":"`+strings.Repeat("{[", 100)+`\"}"}`), &v); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseForm(t *testing.T) {
	t.Parallel()
	f, err := parseForm([]byte("grant_type=refresh_token&refresh_token=a%2Bb&x="))
	if err != nil {
		t.Fatal(err)
	}
	if f["grant_type"] != "refresh_token" || f["refresh_token"] != "a+b" || f["x"] != "" {
		t.Fatalf("parsed %v", f)
	}
	for name, body := range map[string]string{
		"repeated":          "token=a&token=b",
		"bad escape":        "token=%zz",
		"invalid utf-8":     "token=%ff%fe",
		"invalid utf-8 key": "%ff=1",
		"semicolon":         "a=1;b=2",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseForm([]byte(body))
			wantError(t, err, 400, CodeInvalidRequest, "")
		})
	}
}
