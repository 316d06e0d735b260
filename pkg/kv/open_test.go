package kv_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sessionkit/sessiond/pkg/kv"
)

func TestOpen(t *testing.T) {
	const secret = "tok-9c1d"
	for _, tc := range []struct {
		name      string
		env       map[string]string
		transport string
		source    string
		errHas    string // non-empty: Open must fail with ErrConfig naming this
	}{
		{name: "nothing", env: nil, transport: kv.TransportEmbedded},
		{name: "nothing in preview", env: map[string]string{"VERCEL_ENV": "preview"}, transport: kv.TransportEmbedded},
		{name: "nothing in production", env: map[string]string{"VERCEL_ENV": "production"}, errHas: "VERCEL_ENV"},
		{name: "kv rest", env: map[string]string{"KV_REST_API_URL": "https://a.upstash.io", "KV_REST_API_TOKEN": secret},
			transport: kv.TransportREST, source: "KV_REST_API_URL"},
		{name: "upstash rest", env: map[string]string{"UPSTASH_REDIS_REST_URL": "https://b.upstash.io/", "UPSTASH_REDIS_REST_TOKEN": secret},
			transport: kv.TransportREST, source: "UPSTASH_REDIS_REST_URL"},
		{name: "rest wins over redis", env: map[string]string{"KV_REST_API_URL": "https://a.upstash.io", "KV_REST_API_TOKEN": secret,
			"REDIS_URL": "redis://127.0.0.1:6379/0", "VERCEL_ENV": "production"}, transport: kv.TransportREST, source: "KV_REST_API_URL"},
		{name: "url without token", env: map[string]string{"KV_REST_API_URL": "https://a.upstash.io", "REDIS_URL": "redis://x"}, errHas: "KV_REST_API_TOKEN"},
		{name: "token without url", env: map[string]string{"UPSTASH_REDIS_REST_TOKEN": secret}, errHas: "UPSTASH_REDIS_REST_URL"},
		{name: "rest over plain http", env: map[string]string{"KV_REST_API_URL": "http://a.upstash.io", "KV_REST_API_TOKEN": secret}, errHas: "KV_REST_API_URL"},
		{name: "redis url", env: map[string]string{"REDIS_URL": "redis://default:" + secret + "@127.0.0.1:6379/0", "KV_URL": "redis://other:1/0"},
			transport: kv.TransportRedis, source: "REDIS_URL"},
		{name: "kv url", env: map[string]string{"KV_URL": "rediss://default:" + secret + "@kv.example:6379"}, transport: kv.TransportRedis, source: "KV_URL"},
		{name: "bad redis url", env: map[string]string{"REDIS_URL": "redis://u:" + secret + "@[::1/0"}, errHas: "REDIS_URL"},
		{name: "lanes off", env: map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0", "SESSIOND_KV_LANES": "0"}, transport: kv.TransportRedis, source: "REDIS_URL"},
		{name: "lanes not a number", env: map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0", "SESSIOND_KV_LANES": "many"}, errHas: "SESSIOND_KV_LANES"},
		{name: "too many lanes", env: map[string]string{"SESSIOND_KV_LANES": "65"}, errHas: "SESSIOND_KV_LANES"},
		{name: "lanes ignored by rest", env: map[string]string{"KV_REST_API_URL": "https://a.upstash.io", "KV_REST_API_TOKEN": secret, "SESSIOND_KV_LANES": "x"},
			transport: kv.TransportREST, source: "KV_REST_API_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, info, err := kv.Open(func(k string) string { return tc.env[k] })
			if tc.errHas != "" {
				if !errors.Is(err, kv.ErrConfig) || !strings.Contains(err.Error(), tc.errHas) || strings.Contains(err.Error(), secret) {
					t.Fatalf("Open = %v, want ErrConfig naming %s (and no secret)", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer c.Close()
			if info.Transport != tc.transport || info.Source != tc.source || info.Addr == "" {
				t.Fatalf("Info = %+v, want transport %s from %q", info, tc.transport, tc.source)
			}
			if strings.Contains(info.String(), secret) || strings.Contains(info.Addr, "@") {
				t.Fatalf("Info leaks credentials: %s", info)
			}
		})
	}
}

// A binary that does not import pkg/kv/embedded (every Vercel function)
// has no store to fall back on: with nothing configured, Open says what to
// set instead of starting a store no other function could see.
func TestOpenWithoutEmbedded(t *testing.T) {
	kv.WithoutEmbedded(t)
	c, _, err := kv.Open(func(string) string { return "" })
	if c != nil || !errors.Is(err, kv.ErrConfig) || !strings.Contains(err.Error(), "KV_REST_API_URL") {
		t.Fatalf("Open = %v, %v; want ErrConfig naming KV_REST_API_URL", c, err)
	}
	// A configured store does not need it.
	c, info, err := kv.Open(func(k string) string {
		return map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"}[k]
	})
	if err != nil || info.Transport != kv.TransportRedis {
		t.Fatalf("Open(REDIS_URL) = %v, %v", info, err)
	}
	_ = c.Close()
}
