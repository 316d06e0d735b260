package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		rec := httptest.NewRecorder()
		Handler(rec, httptest.NewRequest(method, "/any/path", nil))
		body, _ := io.ReadAll(rec.Result().Body)
		if rec.Code != http.StatusOK || string(body) != "hello\n" {
			t.Fatalf("%s: status %d body %q", method, rec.Code, body)
		}
	}
}
