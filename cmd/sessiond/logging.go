package main

import (
	"log/slog"
	"net/http"
	"time"
)

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
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		log.Info("request", "method", r.Method, "path", safePath(r.URL.Path), "status", status,
			"duration", time.Since(start).Round(time.Microsecond).String(), "bytes", rec.bytes)
	})
}

// safePath bounds a logged path and keeps control characters out of the
// log line.
func safePath(p string) string {
	if len(p) > 200 {
		p = p[:200] + "..."
	}
	b := []byte(p)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}
