package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// The measured requests go through a minimal HTTP/1.1 keep-alive client:
// one connection per worker, the request assembled into a reused buffer,
// the response parsed in place. On this 2-core machine the generator shares
// the CPU with the server it measures, and net/http's client costs several
// times more per request; whatever the generator burns, the target loses.
// Setup calls (seeding, client registration) keep using net/http.

// Errors of the raw client's response parser.
var (
	errMalformed   = errors.New("loadgen: malformed HTTP response")
	errBodyTooBig  = errors.New("loadgen: response body over 1 MiB")
	errHeaderValue = errors.New("loadgen: CR or LF in a request line or header")
)

const maxBody = 1 << 20

// rawConn is one worker's connection to one host:port.
type rawConn struct {
	addr  string // host:port
	host  string // Host header
	conn  net.Conn
	br    *bufio.Reader
	req   []byte
	body  []byte
	cl    int64
	close bool
}

var rawDialer = &net.Dialer{Timeout: 5 * time.Second, Control: loopbackControl}

func (c *rawConn) dial(ctx context.Context) error {
	conn, err := rawDialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c.conn = conn
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, 16<<10)
	} else {
		c.br.Reset(conn)
	}
	return nil
}

func (c *rawConn) drop() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// roundTrip sends one request and reads the whole response. A request on a
// kept-alive connection that the server closed meanwhile is retried once on
// a new connection, as net/http does for idempotent-looking failures before
// any byte of answer.
func (c *rawConn) roundTrip(ctx context.Context, deadline time.Time, method, path, contentType, body string, hdrs []header) (int, []byte, error) {
	if err := c.build(method, path, contentType, body, hdrs); err != nil {
		return 0, nil, err
	}
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil
		if !reused {
			if err := c.dial(ctx); err != nil {
				return 0, nil, err
			}
		}
		_ = c.conn.SetDeadline(deadline)
		status, b, err := c.exchange()
		if err == nil {
			if c.close {
				c.drop()
			}
			return status, b, nil
		}
		c.drop()
		if !reused || attempt > 0 || status != 0 || !(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)) {
			return 0, nil, err
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "reset")
}

func (c *rawConn) build(method, path, contentType, body string, hdrs []header) error {
	bad := func(s string) bool { return strings.ContainsAny(s, "\r\n") }
	if bad(method) || bad(path) || bad(contentType) || strings.ContainsAny(path, " ") {
		return errHeaderValue
	}
	r := c.req[:0]
	r = append(r, method...)
	r = append(r, ' ')
	r = append(r, path...)
	r = append(r, " HTTP/1.1\r\nHost: "...)
	r = append(r, c.host...)
	r = append(r, "\r\nUser-Agent: sessiond-loadgen\r\nAccept: application/json\r\n"...)
	for _, h := range hdrs {
		if bad(h.key) || bad(h.value) {
			return errHeaderValue
		}
		r = append(r, h.key...)
		r = append(r, ": "...)
		r = append(r, h.value...)
		r = append(r, "\r\n"...)
	}
	if contentType != "" {
		r = append(r, "Content-Type: "...)
		r = append(r, contentType...)
		r = append(r, "\r\n"...)
	}
	if body != "" || method == "POST" || method == "PUT" || method == "PATCH" {
		r = append(r, "Content-Length: "...)
		r = strconv.AppendInt(r, int64(len(body)), 10)
		r = append(r, "\r\n"...)
	}
	r = append(r, "\r\n"...)
	r = append(r, body...)
	c.req = r
	return nil
}

// exchange writes the built request and reads the answer. The status is 0
// when no byte of the answer arrived.
func (c *rawConn) exchange() (int, []byte, error) {
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, nil, err
	}
	return c.readResponse()
}

// readResponse parses one HTTP/1.x response from c.br into c.body.
func (c *rawConn) readResponse() (int, []byte, error) {
	for {
		status, err := c.readHead()
		if err != nil {
			return status, nil, err
		}
		if status >= 100 && status < 200 { // interim answer: the real one follows
			continue
		}
		b, err := c.readBody(status)
		return status, b, err
	}
}

// readHead reads the status line and headers, noting the framing.
func (c *rawConn) readHead() (int, error) {
	line, err := c.line()
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, errMalformed
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 || status > 999 || (len(line) > 12 && line[12] != ' ') {
		return 0, errMalformed
	}
	c.cl, c.close = -1, line[7] == '0' // HTTP/1.0 closes unless told otherwise
	chunked := false
	for {
		h, err := c.line()
		if err != nil {
			return status, err
		}
		if len(h) == 0 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return status, errMalformed
		}
		v = bytes.TrimSpace(v)
		switch {
		case asciiEqualFold(k, "content-length"):
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || n < 0 {
				return status, errMalformed
			}
			c.cl = n
		case asciiEqualFold(k, "transfer-encoding"):
			chunked = asciiEqualFold(v, "chunked")
			if !chunked {
				return status, errMalformed
			}
		case asciiEqualFold(k, "connection"):
			if asciiEqualFold(v, "close") {
				c.close = true
			} else if asciiEqualFold(v, "keep-alive") {
				c.close = false
			}
		}
	}
	if chunked {
		c.cl = -2
	}
	return status, nil
}

func (c *rawConn) readBody(status int) ([]byte, error) {
	c.body = c.body[:0]
	switch {
	case status == 204 || status == 304:
		return c.body, nil
	case c.cl >= 0:
		if c.cl > maxBody {
			return nil, errBodyTooBig
		}
		return c.readN(int(c.cl))
	case c.cl == -2:
		return c.readChunked()
	default: // no framing: the body runs to the end of the connection
		c.close = true
		for {
			if len(c.body) > maxBody {
				return nil, errBodyTooBig
			}
			b, err := c.br.ReadByte()
			if err == io.EOF {
				return c.body, nil
			}
			if err != nil {
				return nil, err
			}
			c.body = append(c.body, b)
		}
	}
}

func (c *rawConn) readN(n int) ([]byte, error) {
	start := len(c.body)
	if cap(c.body)-start < n {
		grown := make([]byte, start, start+n)
		copy(grown, c.body)
		c.body = grown
	}
	c.body = c.body[:start+n]
	if _, err := io.ReadFull(c.br, c.body[start:]); err != nil {
		return nil, err
	}
	return c.body, nil
}

func (c *rawConn) readChunked() ([]byte, error) {
	for {
		line, err := c.line()
		if err != nil {
			return nil, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil {
			return nil, errMalformed
		}
		if n == 0 {
			for { // trailers, up to the empty line
				t, err := c.line()
				if err != nil {
					return nil, err
				}
				if len(t) == 0 {
					return c.body, nil
				}
			}
		}
		if len(c.body)+int(n) > maxBody {
			return nil, errBodyTooBig
		}
		if _, err := c.readN(int(n)); err != nil {
			return nil, err
		}
		if crlf, err := c.line(); err != nil || len(crlf) != 0 {
			return nil, errMalformed
		}
	}
}

// line returns the next line without its CRLF (valid until the next read).
func (c *rawConn) line() ([]byte, error) {
	l, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, fmt.Errorf("%w: header line over %d bytes", errMalformed, c.br.Size())
	}
	if err != nil {
		if err == io.EOF && len(l) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	l = l[:len(l)-1]
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	return l, nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
