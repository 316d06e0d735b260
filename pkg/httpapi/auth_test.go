package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestBearer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		headers   []string
		tok       string
		present   bool
		challenge string // "" = no error
	}{
		{"absent", nil, "", false, ""},
		{"bearer", []string{"Bearer abc.def-ghi_~+/=="}, "abc.def-ghi_~+/==", true, ""},
		{"scheme case", []string{"bEaReR xyz"}, "xyz", true, ""},
		{"extra spaces", []string{"Bearer    xyz"}, "xyz", true, ""},
		{"basic", []string{"Basic dXNlcjpwYXNz"}, "", true, "invalid_request"},
		{"no credential", []string{"Bearer"}, "", true, "invalid_request"},
		{"empty credential", []string{"Bearer "}, "", true, "invalid_token"},
		{"space inside", []string{"Bearer a b"}, "", true, "invalid_token"},
		{"padding inside", []string{"Bearer a=b"}, "", true, "invalid_token"},
		{"quote", []string{`Bearer "abc"`}, "", true, "invalid_token"},
		{"two headers", []string{"Bearer a", "Bearer b"}, "", true, "invalid_request"},
		{"non-ascii", []string{"Bearer abcé"}, "", true, "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			tok, present, err := bearer(r)
			if present != tc.present {
				t.Fatalf("present = %v", present)
			}
			if tc.challenge != "" {
				wantError(t, err, 401, CodeUnauthorized, "")
				if e := err.(*Error); e.Challenge != tc.challenge {
					t.Fatalf("challenge %q, want %q", e.Challenge, tc.challenge)
				}
				return
			}
			if err != nil || tok != tc.tok {
				t.Fatalf("got %q, %v", tok, err)
			}
		})
	}
}

func TestKeyEqual(t *testing.T) {
	t.Parallel()
	cases := []struct {
		given, want string
		ok          bool
	}{
		{"s3cret-s3cret-s3cret", "s3cret-s3cret-s3cret", true},
		{"s3cret-s3cret-s3creT", "s3cret-s3cret-s3cret", false},
		{"s3cret", "s3cret-s3cret-s3cret", false},
		{"s3cret-s3cret-s3cret-and-more", "s3cret-s3cret-s3cret", false},
		{"", "", false}, // an unset key matches nothing, not even empty
		{"anything", "", false},
	}
	for _, tc := range cases {
		if got := keyEqual(tc.given, tc.want); got != tc.ok {
			t.Errorf("keyEqual(%q, %q) = %v", tc.given, tc.want, got)
		}
	}
}
