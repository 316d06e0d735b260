package httpapi

import (
	"strings"
	"testing"
	"time"
)

func TestParseRefresh(t *testing.T) {
	t.Parallel()
	type want struct {
		status int
		code   string
		token  string
	}
	cases := []struct {
		name string
		kind bodyKind
		body string
		want want
	}{
		{"form", bodyForm, "grant_type=refresh_token&refresh_token=rt1", want{0, "", "rt1"}},
		{"form without grant_type", bodyForm, "refresh_token=rt1", want{400, CodeInvalidRequest, ""}},
		{"form empty grant_type", bodyForm, "grant_type=&refresh_token=rt1", want{400, CodeInvalidRequest, ""}},
		{"form other grant", bodyForm, "grant_type=password&username=a", want{400, CodeUnsupportedGrantType, ""}},
		{"form repeated", bodyForm, "grant_type=refresh_token&refresh_token=a&refresh_token=b", want{400, CodeInvalidRequest, ""}},
		{"form without token (cookie mode decides)", bodyForm, "grant_type=refresh_token", want{0, "", ""}},
		{"json", bodyJSON, `{"refresh_token":"rt2","device":{"os":"linux"}}`, want{0, "", "rt2"}},
		{"json grant ok", bodyJSON, `{"grant_type":"refresh_token","refresh_token":"rt2"}`, want{0, "", "rt2"}},
		{"json other grant", bodyJSON, `{"grant_type":"client_credentials"}`, want{400, CodeUnsupportedGrantType, ""}},
		{"json token wrong type", bodyJSON, `{"refresh_token":42}`, want{400, CodeInvalidRequest, ""}},
		{"json device wrong type", bodyJSON, `{"refresh_token":"a","device":{"screen_width":"big"}}`, want{400, CodeInvalidRequest, ""}},
		{"json device not object", bodyJSON, `{"refresh_token":"a","device":[1]}`, want{400, CodeInvalidRequest, ""}},
		{"huge token is just a bad grant", bodyJSON, `{"refresh_token":"` + strings.Repeat("a", maxTokenLen+1) + `"}`, want{400, CodeInvalidGrant, ""}},
		{"empty body", bodyEmpty, "", want{0, "", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := parseRefresh(tc.kind, []byte(tc.body))
			if tc.want.status != 0 {
				wantError(t, err, tc.want.status, tc.want.code, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.RefreshToken != tc.want.token {
				t.Fatalf("token %q", req.RefreshToken)
			}
		})
	}
	t.Run("device decoded", func(t *testing.T) {
		req, err := parseRefresh(bodyJSON, []byte(`{"refresh_token":"a","device":{"os":"linux","screen_width":1280,"zzz":1}}`))
		if err != nil {
			t.Fatal(err)
		}
		if req.device == nil || req.device.OS != "linux" || *req.device.ScreenWidth != 1280 {
			t.Fatalf("device %+v", req.device)
		}
	})
}

func TestParseRevoke(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		kind       bodyKind
		ok         bool
		admin      bool
		hint       string
	}{
		{"form", "token=abc&token_type_hint=access_token", bodyForm, true, false, hintAccess},
		{"unknown hint ignored", "token=abc&token_type_hint=id_token", bodyForm, true, false, ""},
		{"json", `{"token":"abc","token_type_hint":"refresh_token"}`, bodyJSON, true, false, hintRefresh},
		{"no token is decided later", `{}`, bodyJSON, true, false, ""},
		{"admin ids", `{"session_ids":["a","b"]}`, bodyJSON, true, true, ""},
		{"admin user", `{"user_id":"alice"}`, bodyJSON, true, true, ""},
		{"admin both", `{"user_id":"alice","session_ids":["a"]}`, bodyJSON, false, true, ""},
		{"admin and token", `{"user_id":"alice","token":"x"}`, bodyJSON, false, true, ""},
		{"empty ids", `{"session_ids":[]}`, bodyJSON, false, true, ""},
		{"empty id", `{"session_ids":[""]}`, bodyJSON, false, true, ""},
		{"ids wrong type", `{"session_ids":"a"}`, bodyJSON, false, true, ""},
		{"too many ids", `{"session_ids":[` + strings.Repeat(`"x",`, maxSessionIDs) + `"x"]}`, bodyJSON, false, true, ""},
		{"empty user", `{"user_id":""}`, bodyJSON, false, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := parseRevoke(tc.kind, []byte(tc.body))
			if !tc.ok {
				wantError(t, err, 400, CodeInvalidRequest, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.admin() != tc.admin || req.Hint != tc.hint {
				t.Fatalf("admin %v hint %q", req.admin(), req.Hint)
			}
		})
	}
}

func TestParseIntrospect(t *testing.T) {
	t.Parallel()
	req, end, err := parseIntrospect(bodyForm, []byte("token=t&end_user_ip=%3A%3Affff%3A198.51.100.4&end_user_agent=UA"))
	if err != nil || req.Token != "t" || end == nil || end.IP.String() != "198.51.100.4" || end.UserAgent != "UA" {
		t.Fatalf("got %+v %+v %v", req, end, err)
	}
	if _, end, err := parseIntrospect(bodyJSON, []byte(`{"token":"t"}`)); err != nil || end != nil {
		t.Fatalf("no end user: %+v %v", end, err)
	}
	for name, c := range map[string]struct {
		kind bodyKind
		body string
	}{
		"missing token": {bodyForm, "token_type_hint=access_token"},
		"empty token":   {bodyJSON, `{"token":""}`},
		"empty body":    {bodyEmpty, ""},
		"bad ip":        {bodyJSON, `{"token":"t","end_user_ip":"1.2.3"}`},
		"token type":    {bodyJSON, `{"token":["t"]}`},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := parseIntrospect(c.kind, []byte(c.body))
			wantError(t, err, 400, CodeInvalidRequest, "")
		})
	}
}

func TestParsePatch(t *testing.T) {
	t.Parallel()
	p, err := parsePatch(bodyJSON, []byte(`{"metadata":{"a":"1","b":null}}`))
	if err != nil || p.Resume || *p.Metadata["a"] != "1" || p.Metadata["b"] != nil || len(p.Metadata) != 2 {
		t.Fatalf("got %+v %v", p, err)
	}
	p, err = parsePatch(bodyJSON, []byte(`{"state":"active"}`))
	if err != nil || !p.Resume {
		t.Fatalf("resume: %+v %v", p, err)
	}
	for name, body := range map[string]string{
		"nothing":        `{}`,
		"other state":    `{"state":"revoked"}`,
		"metadata array": `{"metadata":["a"]}`,
		"value number":   `{"metadata":{"a":1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parsePatch(bodyJSON, []byte(body))
			wantError(t, err, 400, CodeInvalidRequest, "")
		})
	}
}

func TestParseCreate(t *testing.T) {
	t.Parallel()
	verifier := strings.Repeat("A", 43)
	req, err := parseCreate(bodyJSON, []byte(`{"user_id":"u","upstream":{"access_token":"a","expires_in":60,"scope":"openid"},"metadata":{"k":"v"}}`))
	if err != nil || *req.UserID != "u" || req.Metadata["k"] != "v" {
		t.Fatalf("got %+v %v", req, err)
	}
	now := time.Unix(1000, 0)
	if tok := req.Upstream.tokens(now); tok.AccessToken != "a" || !tok.Expiry.Equal(now.Add(time.Minute)) || tok.Scope != "openid" {
		t.Fatalf("upstream %+v", tok)
	}
	if _, err := parseCreate(bodyJSON, []byte(`{"code":"c","code_verifier":"`+verifier+`","redirect_uri":"https://a/cb"}`)); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"code and id_token":  `{"code":"c","id_token":"x"}`,
		"code no verifier":   `{"code":"c","redirect_uri":"https://a/cb"}`,
		"short verifier":     `{"code":"c","code_verifier":"abc","redirect_uri":"https://a/cb"}`,
		"bad verifier chars": `{"code":"c","code_verifier":"` + strings.Repeat("!", 43) + `","redirect_uri":"https://a/cb"}`,
		"code no redirect":   `{"code":"c","code_verifier":"` + verifier + `"}`,
		"empty code":         `{"code":"","code_verifier":"` + verifier + `","redirect_uri":"x"}`,
		"empty id_token":     `{"id_token":""}`,
		"empty upstream":     `{"user_id":"u","upstream":{}}`,
		"negative expiry":    `{"user_id":"u","upstream":{"access_token":"a","expires_in":-5}}`,
		"metadata type":      `{"user_id":"u","metadata":{"k":1}}`,
		"user_id type":       `{"user_id":7}`,
		"device type":        `{"user_id":"u","device":{"touch_points":"many"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseCreate(bodyJSON, []byte(body))
			wantError(t, err, 400, CodeInvalidRequest, "")
		})
	}
}
