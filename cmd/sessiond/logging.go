package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// accessLog reports whether SESSIOND_ACCESS_LOG asks for the per-request
// line: on unless it is "0", "false", "off" or "no".
func accessLog(getenv func(string) string) bool {
	switch strings.ToLower(strings.TrimSpace(getenv("SESSIOND_ACCESS_LOG"))) {
	case "0", "false", "off", "no":
		return false
	}
	return true
}

// statusRecorder remembers the status and size of an answer.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs one line per request: method, path, status, duration and
// size. Only the path is logged, never the query string (it may hold a
// session id or, from a careless client, a token) nor any header.
func logRequests(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !log.Enabled(r.Context(), slog.LevelInfo) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		// LogAttrs with typed attributes: no []any boxing per request.
		log.LogAttrs(context.Background(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", safePath(r.URL.Path)),
			slog.Int("status", status),
			slog.String("duration", time.Since(start).Round(time.Microsecond).String()),
			slog.Int("bytes", rec.bytes))
	})
}

// safePath bounds a logged path and keeps control characters out of the
// log line.
func safePath(p string) string {
	if len(p) > 200 {
		p = p[:200] + "..."
	}
	clean := true
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return p
	}
	b := []byte(p)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}
