package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCheckLoopbackURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url      string
		ok       bool
		loopback bool // error must be ErrNotLoopback
	}{
		{"http://127.0.0.1:3000", true, false},
		{"http://127.8.9.10/api", true, false},
		{"http://[::1]:4445/admin", true, false},
		{"http://localhost:3000", true, false},
		{"http://LOCALHOST", true, false},
		{"https://127.0.0.1:8443", true, false},
		{"http://[::ffff:127.0.0.1]:80", true, false},
		{"http://10.0.0.1:3000", false, true},
		{"http://192.168.1.20", false, true},
		{"http://0.0.0.0:3000", false, true},
		{"http://[::]:3000", false, true},
		{"http://example.com", false, true},
		{"http://localhost.example.com", false, true},
		{"http://127.0.0.1.nip.io", false, true},
		{"ftp://127.0.0.1", false, false},
		{"http://user:pw@127.0.0.1", false, false},
		{"127.0.0.1:3000", false, false},
		{"http://", false, false},
		{"://bad", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			_, err := checkLoopbackURL(tt.url)
			if (err == nil) != tt.ok {
				t.Fatalf("checkLoopbackURL(%q) error = %v, want ok=%v", tt.url, err, tt.ok)
			}
			if tt.loopback != errors.Is(err, ErrNotLoopback) {
				t.Fatalf("checkLoopbackURL(%q) error = %v, want ErrNotLoopback=%v", tt.url, err, tt.loopback)
			}
		})
	}
}

func TestLoopbackControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:80", true},
		{"[::1]:80", true},
		{"127.255.0.1:1", true},
		{"10.1.2.3:80", false},
		{"[2001:db8::1]:443", false},
		{"no-port", false},
		{"name.example:80", false},
	}
	for _, tt := range tests {
		err := loopbackControl("tcp", tt.addr, nil)
		if (err == nil) != tt.ok {
			t.Errorf("loopbackControl(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
		}
	}
}

// TestClientRefusesRedirectOffLoopback checks the client end to end: a
// loopback server that redirects elsewhere must not make the client leave
// the machine, and the dialer refuses a non-loopback address outright.
func TestClientRefusesRedirectOffLoopback(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	c := newHTTPClient(4, 2*time.Second)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d: the redirect was followed", resp.StatusCode)
	}

	// 192.0.2.1 is TEST-NET-1: the guard must refuse before any packet leaves.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://192.0.2.1/", nil)
	_, err = c.Do(req)
	if !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("dial to 192.0.2.1: err = %v, want ErrNotLoopback", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("want a *net.OpError from the dialer, got %T", err)
	}
}
