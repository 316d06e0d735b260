package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func parseRaw(in string) (int, string, bool, error) {
	c := &rawConn{br: bufio.NewReaderSize(strings.NewReader(in), 4096)}
	status, b, err := c.readResponse()
	return status, string(b), c.close, err
}

func TestReadResponse(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", maxBody+1)
	tests := []struct {
		name   string
		in     string
		status int
		body   string
		close  bool
		err    bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello", false, false},
		{"header case and spaces", "HTTP/1.1 201 Created\r\ncOnTeNt-LeNgTh:   2  \r\nX: y\r\n\r\nok", 201, "ok", false, false},
		{"no reason phrase", "HTTP/1.1 204\r\n\r\n", 204, "", false, false},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nTrailer: 1\r\n\r\n", 200, "abc0123456789", false, false},
		{"connection close", "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", 400, "{}", true, false},
		{"http/1.0 reads to EOF", "HTTP/1.0 200 OK\r\n\r\nuntil the end", 200, "until the end", true, false},
		{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nz", 200, "z", false, false},
		{"interim 100 then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nq", 200, "q", false, false},
		{"bare LF lines", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", 200, "hi", false, false},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", 200, "", false, true},
		{"garbage status", "HTTP/1.1 2x0 OK\r\n\r\n", 0, "", false, true},
		{"not http", "SSH-2.0-OpenSSH\r\n\r\n", 0, "", false, true},
		{"status glued to reason", "HTTP/1.1 200OK\r\n\r\n", 0, "", false, true},
		{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 200, "", false, true},
		{"header without colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", 200, "", false, true},
		{"gzip transfer encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 200, "", false, true},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 200, "", false, true},
		{"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX\r\n0\r\n\r\n", 200, "", false, true},
		{"body over limit", "HTTP/1.1 200 OK\r\nContent-Length: " + "1048577" + "\r\n\r\n" + big, 200, "", false, true},
		{"unframed body over limit", "HTTP/1.0 200 OK\r\n\r\n" + big + "x", 200, "", false, true},
		{"eof in headers", "HTTP/1.1 200 OK\r\nContent-Le", 200, "", false, true},
		{"empty", "", 0, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body, closed, err := parseRaw(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			if err == nil && (body != tt.body || closed != tt.close) {
				t.Fatalf("body %q close %v, want %q %v", body, closed, tt.body, tt.close)
			}
		})
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	f.Add("HTTP/1.0 404 Not Found\r\n\r\nnope")
	f.Add("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		status, body, _, err := parseRaw(in)
		if err == nil && (status < 200 || status > 999 || len(body) > maxBody) {
			t.Fatalf("accepted status %d with %d body bytes", status, len(body))
		}
	})
}

func TestBuildRefusesInjection(t *testing.T) {
	t.Parallel()
	c := &rawConn{host: "127.0.0.1:1"}
	for _, tc := range []struct{ path, ct, hv string }{
		{"/a\r\nX: y", "", "v"},
		{"/a b", "", "v"},
		{"/a", "text/plain\r\nX: y", "v"},
		{"/a", "", "v\nX: y"},
	} {
		if err := c.build("POST", tc.path, tc.ct, "", []header{{"K", tc.hv}}); !errors.Is(err, errHeaderValue) {
			t.Errorf("%+v: err = %v", tc, err)
		}
	}
	if err := c.build("POST", "/api/introspect?x=1", ctForm, "token=a", []header{bearer("k")}); err != nil {
		t.Fatal(err)
	}
	want := "POST /api/introspect?x=1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\nUser-Agent: sessiond-loadgen\r\nAccept: application/json\r\n" +
		"Authorization: Bearer k\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\ntoken=a"
	if string(c.req) != want {
		t.Fatalf("request:\n%q\nwant:\n%q", c.req, want)
	}
}

// TestRawClientAgainstNetHTTP runs the raw client against a real net/http
// server: framing variants, keep-alive reuse, and recovery when the server
// drops an idle connection.
func TestRawClientAgainstNetHTTP(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			w.Header().Set("X-Method", r.Method)
			w.Write([]byte(r.Method + " " + r.Header.Get("Authorization") + " " + r.Header.Get("Content-Type") + " " + string(b)))
		case "/chunked":
			for i := 0; i < 3; i++ {
				w.Write([]byte(strings.Repeat("c", 5000)))
				w.(http.Flusher).Flush()
			}
		case "/none":
			w.WriteHeader(http.StatusNoContent)
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	rq := &requester{client: newHTTPClient(1, 5*time.Second)}
	defer rq.close()
	ctx := context.Background()

	for i := 0; i < 50; i++ {
		c := rq.do(ctx, "POST", srv.URL+"/echo", ctForm, "token=x", bearer("k"))
		if c.err != nil || c.status != 200 || string(c.body) != "POST Bearer k "+ctForm+" token=x" {
			t.Fatalf("echo %d: %+v %q", i, c.err, c.body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("50 requests used %d connections, want 1 (keep-alive)", n)
	}
	if c := rq.do(ctx, "GET", srv.URL+"/chunked", "", ""); c.err != nil || len(c.body) != 15000 {
		t.Fatalf("chunked: %v, %d bytes", c.err, len(c.body))
	}
	if c := rq.do(ctx, "DELETE", srv.URL+"/none", "", ""); c.err != nil || c.status != 204 {
		t.Fatalf("204: %+v", c)
	}
	if c := rq.do(ctx, "GET", srv.URL+"/nope", "", ""); c.err != nil || c.status != 404 {
		t.Fatalf("404: %+v", c)
	}
	if c := rq.do(ctx, "GET", srv.URL+"/close", "", ""); c.err != nil || string(c.body) != "bye" {
		t.Fatalf("close: %+v", c)
	}
	before := conns.Load()
	srv.CloseClientConnections() // the server drops our idle connection
	if c := rq.do(ctx, "GET", srv.URL+"/echo", "", ""); c.err != nil || c.status != 200 {
		t.Fatalf("after the server closed the connection: %+v", c)
	}
	if conns.Load() != before+1 {
		t.Fatalf("connections %d -> %d, want one redial", before, conns.Load())
	}

	// The dial guard holds on the raw path too.
	if c := rq.do(ctx, "GET", "http://192.0.2.1:80/", "", ""); !errors.Is(c.err, ErrNotLoopback) {
		t.Fatalf("raw dial off loopback: %v", c.err)
	}
}

// TestRawClientTimeout: a server that never answers costs one timeout.
func TestRawClientTimeout(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, say nothing
		}
	}()
	rq := &requester{client: newHTTPClient(1, 200*time.Millisecond)}
	defer rq.close()
	start := time.Now()
	c := rq.do(context.Background(), "GET", "http://"+l.Addr().String()+"/", "", "")
	var ne net.Error
	if !errors.As(c.err, &ne) || !ne.Timeout() || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %v", c.err, time.Since(start))
	}
}

func BenchmarkRawRoundTrip(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte(`{"active":true}`))
	}))
	defer srv.Close()
	for _, name := range []string{"raw", "net/http"} {
		b.Run(name, func(b *testing.B) {
			rq := &requester{client: newHTTPClient(1, 5*time.Second)}
			defer rq.close()
			url := srv.URL + "/api/introspect"
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				var c call
				if name == "raw" {
					c = rq.do(ctx, "POST", url, ctForm, "token=abc", bearer("k"))
				} else {
					c = rq.doStd(ctx, "POST", url, ctForm, "token=abc", []header{bearer("k")})
				}
				if c.err != nil || c.status != 200 {
					b.Fatal(c.err)
				}
			}
		})
	}
}
