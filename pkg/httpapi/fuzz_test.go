package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Fuzz targets for every decoder of outside input. The property is the
// same for all: any input yields either a result or an *Error with a 4xx
// status, never a panic and never a 5xx. Crashers found are kept under
// testdata/fuzz/<Target>/ and replayed by every `go test`.

func check4xx(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("not an *Error: %T %v", err, err)
	}
	if e.Status < 400 || e.Status > 499 || e.Code == "" || e.Description == "" {
		t.Fatalf("bad error %d %q %q", e.Status, e.Code, e.Description)
	}
}

var jsonSeeds = []string{
	`{}`, `{"user_id":"alice","device":{"screen_width":1920,"languages":["en"]},"metadata":{"k":"v"}}`,
	`{"code":"c","code_verifier":"` + strings.Repeat("v", 43) + `","redirect_uri":"https://a/cb"}`,
	`{"id_token":"a.b.c","device":null}`, `{"upstream":{"access_token":"x","expires_in":-1}}`,
	`{"refresh_token":"rt","grant_type":"password"}`, `{"token":"t","token_type_hint":"refresh_token"}`,
	`{"session_ids":["a","b"]}`, `{"user_id":""}`, `{"metadata":{"a":null},"state":"active"}`,
	`{"token":"t","end_user_ip":"::1","end_user_agent":"x"}`, `[`, `{"a":` + strings.Repeat("[", 50),
	"{\"device\":{\"user_agent\":5}}", `{"device":"x"}`, `{"session_ids":null}`,
}

var formSeeds = []string{
	"", "grant_type=refresh_token&refresh_token=x", "grant_type=password", "token=a&token=b",
	"token=%ff", "token=x&token_type_hint=access_token", "end_user_ip=1.2.3.4&token=t", "device=%7B%7D&grant_type=refresh_token",
}

func fuzzBoth(f *testing.F, fn func(kind bodyKind, body []byte) error) {
	for _, s := range jsonSeeds {
		f.Add(true, []byte(s))
	}
	for _, s := range formSeeds {
		f.Add(false, []byte(s))
	}
	f.Fuzz(func(t *testing.T, isJSON bool, body []byte) {
		kind := bodyForm
		if isJSON {
			kind = bodyJSON
		}
		check4xx(t, fn(kind, body))
	})
}

func FuzzParseCreate(f *testing.F) {
	fuzzBoth(f, func(k bodyKind, b []byte) error {
		req, err := parseCreate(bodyJSON, b)
		if err == nil && req == nil {
			return errors.New("nil request without error")
		}
		return err
	})
}

func FuzzParsePatch(f *testing.F) {
	fuzzBoth(f, func(k bodyKind, b []byte) error {
		_, err := parsePatch(bodyJSON, b)
		return err
	})
}

func FuzzParseRefresh(f *testing.F) {
	fuzzBoth(f, func(k bodyKind, b []byte) error {
		req, err := parseRefresh(k, b)
		if err == nil && req.GrantType != nil && *req.GrantType != grantRefresh {
			return errors.New("accepted another grant type")
		}
		return err
	})
}

func FuzzParseRevoke(f *testing.F) {
	fuzzBoth(f, func(k bodyKind, b []byte) error {
		req, err := parseRevoke(k, b)
		if err == nil && req.Hint != "" && req.Hint != hintAccess && req.Hint != hintRefresh {
			return errors.New("kept an unknown hint")
		}
		return err
	})
}

func FuzzParseIntrospect(f *testing.F) {
	fuzzBoth(f, func(k bodyKind, b []byte) error {
		req, _, err := parseIntrospect(k, b)
		if err == nil && req.Token == "" {
			return errors.New("accepted a request without token")
		}
		return err
	})
}

// FuzzReadBody drives the whole body path: Content-Type parsing, the size
// limit and the UTF-8 check, then the JSON decoder.
func FuzzReadBody(f *testing.F) {
	f.Add("application/json", []byte(`{"a":1}`))
	f.Add("application/x-www-form-urlencoded; charset=utf-8", []byte(`a=1`))
	f.Add("multipart/form-data; boundary=x", []byte("--x--"))
	f.Add("", []byte("\xff"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		r.Header["Content-Type"] = []string{ct}
		kind, b, err := readBody(httptest.NewRecorder(), r, true)
		check4xx(t, err)
		if err == nil && kind == bodyJSON {
			var v createRequest
			check4xx(t, decodeJSON(b, &v))
		}
	})
}

func FuzzAuditQuery(f *testing.F) {
	f.Add("user_id=a&limit=10&before=x")
	f.Add("limit=0")
	f.Add("limit=501&limit=2")
	f.Add("window=24h")
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		aq, err := parseAuditQuery(v)
		check4xx(t, err)
		if err == nil && (aq.Limit < 1 || aq.Limit > maxAuditLimit) {
			t.Fatalf("limit %d out of bounds", aq.Limit)
		}
		w, err := parseWindow(v["window"])
		check4xx(t, err)
		if err == nil && (w < minSummaryWindow || w > maxSummaryWindow) {
			t.Fatalf("window %s out of bounds", w)
		}
	})
}

func FuzzBearer(f *testing.F) {
	f.Add("Bearer abc")
	f.Add("bearer  a.b.c")
	f.Add("Basic x")
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{h}
		tok, present, err := bearer(r)
		check4xx(t, err)
		if !present {
			t.Fatal("header present but reported absent")
		}
		if err == nil && (tok == "" || !isToken68(tok)) {
			t.Fatalf("accepted %q", tok)
		}
	})
}

func FuzzClientIP(f *testing.F) {
	f.Add("1.2.3.4, 10.0.0.1", "9.9.9.9", "[::1]:80")
	f.Add("", "garbage", "nonsense")
	f.Fuzz(func(t *testing.T, xff, realIP, remote string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header["X-Forwarded-For"] = []string{xff}
		r.Header["X-Real-Ip"] = []string{realIP}
		for _, p := range []ipPolicy{{}, {trustProxy: true}, {onVercel: true}} {
			a := p.clientIP(r)
			if a.IsValid() && (a.Zone() != "" || a.Is4In6()) {
				t.Fatalf("not normalized: %v", a)
			}
		}
	})
}
