package kv

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
)

// Transport names reported in Info.
const (
	TransportREST     = "rest"
	TransportRedis    = "redis"
	TransportEmbedded = "embedded"
)

// Info describes the store Open chose, for the one start-up log line. It
// never holds a token or a password.
type Info struct {
	Transport string // TransportREST, TransportRedis or TransportEmbedded
	Addr      string // redacted address: scheme://host[:port][/path], no credentials
	Source    string // the variable it came from, e.g. "KV_REST_API_URL"; "" for embedded
}

// String is the log line's text, e.g.
// "kv: transport=rest addr=https://xyz.upstash.io source=KV_REST_API_URL".
func (i Info) String() string {
	s := "kv: transport=" + i.Transport + " addr=" + i.Addr
	if i.Source != "" {
		s += " source=" + i.Source
	}
	return s
}

// Open chooses the store from the environment, first match wins (SPEC, "KV
// selection"):
//
//  1. KV_REST_API_URL + KV_REST_API_TOKEN, or UPSTASH_REDIS_REST_URL +
//     UPSTASH_REDIS_REST_TOKEN: the Upstash REST API (NewREST);
//  2. REDIS_URL, or KV_URL: native Redis (NewRedisURL);
//  3. nothing: the embedded in-process store, when the binary has one
//     (it imports pkg/kv/embedded, as cmd/sessiond does; the Vercel
//     functions do not), refused when VERCEL_ENV=production.
//
// SESSIOND_KV_LANES (native Redis and the embedded store only) sets how many
// automatic pipelines may be on the wire at once (Redis.SetPipelineLanes;
// default DefaultPipelineLanes, 0 turns automatic pipelining off).
//
// Half a pair (a URL without its token or the reverse) is an error naming
// the missing variable, not a reason to fall through to the next transport.
// Every error wraps ErrConfig and names variables, never their values.
// Open does not contact the store: a store that is down shows up on the
// first call, as ErrUnavailable.
func Open(getenv func(string) string) (Client, Info, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	for _, p := range [][2]string{
		{"KV_REST_API_URL", "KV_REST_API_TOKEN"},
		{"UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"},
	} {
		u, tok := env(p[0]), env(p[1])
		switch {
		case u == "" && tok == "":
			continue
		case u == "":
			return nil, Info{}, fmt.Errorf("%w: %s is set but %s is empty", ErrConfig, p[1], p[0])
		case tok == "":
			return nil, Info{}, fmt.Errorf("%w: %s is set but %s is empty", ErrConfig, p[0], p[1])
		}
		c, err := NewREST(RESTOptions{URL: u, Token: tok})
		if err != nil {
			return nil, Info{}, configErr(p[0], err)
		}
		return c, Info{Transport: TransportREST, Addr: c.base, Source: p[0]}, nil
	}
	lanes := DefaultPipelineLanes
	if v := env("SESSIOND_KV_LANES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 64 {
			return nil, Info{}, fmt.Errorf("%w: SESSIOND_KV_LANES must be an integer from 0 to 64", ErrConfig)
		}
		lanes = n
	}
	for _, name := range []string{"REDIS_URL", "KV_URL"} {
		raw := env(name)
		if raw == "" {
			continue
		}
		c, err := NewRedisURL(raw)
		if err != nil {
			return nil, Info{}, configErr(name, err)
		}
		c.SetPipelineLanes(lanes)
		return c, Info{Transport: TransportRedis, Addr: redactURL(raw), Source: name}, nil
	}
	if env("VERCEL_ENV") == "production" {
		return nil, Info{}, fmt.Errorf("%w: no KV store configured and the embedded store is refused when VERCEL_ENV=production; "+
			"set KV_REST_API_URL and KV_REST_API_TOKEN (or REDIS_URL)", ErrConfig)
	}
	start := startEmbedded.Load()
	if start == nil {
		return nil, Info{}, fmt.Errorf("%w: no KV store configured, and this binary has no embedded store (only cmd/sessiond "+
			"has one); set KV_REST_API_URL and KV_REST_API_TOKEN (or REDIS_URL)", ErrConfig)
	}
	e, err := (*start)()
	if err != nil {
		return nil, Info{}, err
	}
	e.SetPipelineLanes(lanes)
	return e, Info{Transport: TransportEmbedded, Addr: e.Addr()}, nil
}

// LocalStore is a store started in-process: what the embedded store
// (pkg/kv/embedded) gives Open.
type LocalStore interface {
	Client
	// SetPipelineLanes is Redis.SetPipelineLanes.
	SetPipelineLanes(n int)
	// Addr is the loopback address the store listens on.
	Addr() string
}

var startEmbedded atomic.Pointer[func() (LocalStore, error)]

// RegisterEmbedded makes start the store Open uses when nothing is
// configured. pkg/kv/embedded calls it from its init, so a binary has an
// embedded store exactly when it imports that package; the last call wins.
func RegisterEmbedded(start func() (LocalStore, error)) {
	startEmbedded.Store(&start)
}

// configErr puts the variable's name after ErrConfig's text:
// "kv: bad configuration: REDIS_URL: invalid redis URL: ...".
func configErr(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), ErrConfig.Error()+": ")
	return fmt.Errorf("%w: %s: %s", ErrConfig, name, msg)
}

// redactURL keeps scheme, host, port and path (the database number) of a
// URL that parsed already, and drops user, password and query.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}
