package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/embedded"
)

func TestOnServerless(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"VERCEL": "0"}, false},
		{map[string]string{"VERCEL": "1"}, true},
		{map[string]string{"VERCEL_ENV": "preview"}, true},
		{map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "api-sessions"}, true},
	} {
		if got := onServerless(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("onServerless(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// The warm-up builds the App and opens the store's connections with a
// PING; the first request then uses that very state and pays no build.
func TestPrewarmBuildsAndConnects(t *testing.T) {
	e, err := embedded.New()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	store := kv.NewCounting(e)
	env := map[string]string{"SESSION_ADMIN_KEY": "an-admin-key-of-32-bytes-or-more!"}
	a := New(func(k string) string { return env[k] }, WithStore(store, kv.Info{Transport: kv.TransportEmbedded}))
	a.prewarm(context.Background())
	st := a.st.Load()
	if st == nil {
		t.Fatal("prewarm did not build the App")
	}
	// A PING alone, then a PING in a pipeline (go-redis pools pipelines
	// on another connection).
	if got := store.Log(); !reflect.DeepEqual(got, [][]string{{"PING"}, {"PING"}}) {
		t.Fatalf("prewarm sent %v, want a PING and a pipelined PING", got)
	}
	rec := httptest.NewRecorder()
	a.Health(rec, httptest.NewRequest(http.MethodGet, "/api/health", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("health after prewarm: %d %s", rec.Code, rec.Body)
	}
	if a.st.Load() != st {
		t.Fatal("the first request rebuilt the App")
	}
}

// A bad configuration found by the warm-up is logged once, and requests
// answer 503 as they would without it.
func TestPrewarmBadConfiguration(t *testing.T) {
	var logs bytes.Buffer // prewarm and the requests run on this goroutine
	env := map[string]string{"SESSION_IDLE_TIMEOUT": "not-a-duration"}
	a := New(func(k string) string { return env[k] }, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	a.prewarm(context.Background())
	for range 2 {
		rec := httptest.NewRecorder()
		a.Health(rec, httptest.NewRequest(http.MethodGet, "/api/health", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("health with a bad configuration: %d %s", rec.Code, rec.Body)
		}
	}
	if n := strings.Count(logs.String(), "bad configuration"); n != 1 {
		t.Fatalf("bad configuration logged %d times, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "SESSION_IDLE_TIMEOUT") {
		t.Fatalf("the log does not name the variable:\n%s", logs.String())
	}
}
