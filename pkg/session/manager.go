package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sessionkit/sessiond/pkg/kv"
)

// Manager runs the life of sessions against one KV store. It holds no
// session state of its own: every instance of the service may run one over
// the same store, and each operation is one atomic script there. A Manager
// is safe for concurrent use.
type Manager struct {
	kv  kv.Client
	cfg Config
}

// New returns a Manager over store. cfg's zero fields take the defaults
// its doc states; a missing Signer, Verifier or RefreshKeys is an error.
func New(store kv.Client, cfg Config) (*Manager, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Manager{kv: store, cfg: c}, nil
}

// Ping checks that the store answers.
func (m *Manager) Ping(ctx context.Context) error {
	_, err := m.kv.Do(ctx, "PING")
	return err
}

// JWKS returns the JSON Web Key Set of the access-token keys (current and
// previous), built once.
func (m *Manager) JWKS() []byte { return m.cfg.Verifier.JWKS() }

// base is the part of every script's A that lib.lua reads.
type base struct {
	P     string  `json:"p"`
	Now   int64   `json:"now"`
	IP    string  `json:"ip,omitempty"`
	UA    string  `json:"ua,omitempty"`
	Actor string  `json:"actor,omitempty"`
	Ret   int64   `json:"ret"`
	Tomb  int64   `json:"tomb"`
	RL    []rlArg `json:"rl,omitempty"`
	LF    []lfArg `json:"lf,omitempty"`
	UID   string  `json:"uid,omitempty"`
	SID   string  `json:"sid,omitempty"`
}

// maxUserAgent bounds what is stored and audited of a User-Agent header.
const maxUserAgent = 256

func (m *Manager) base(now time.Time, c Client, actor string, rs rules) base {
	ua := c.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	ip := ""
	if c.IP.IsValid() {
		ip = c.IP.Unmap().String()
	}
	return base{
		P: m.cfg.KeyPrefix, Now: now.UnixMilli(), IP: ip, UA: ua, Actor: actor,
		Ret: m.cfg.AuditRetention.Milliseconds(), Tomb: m.cfg.TombstoneTTL.Milliseconds(),
		RL: rs.rl, LF: rs.lf,
	}
}

// run executes script with A as its JSON argument and returns the reply
// array, turning a {"rate", ...} reply into a *RateLimitError.
func (m *Manager) run(ctx context.Context, s *kv.Script, a any) ([]any, error) {
	buf := argBufs.Get().(*[]byte)
	arg, err := encodeArg((*buf)[:0], a)
	if err != nil {
		argBufs.Put(buf)
		return nil, fmt.Errorf("session: encode script argument: %w", err)
	}
	var extra []any
	if x, ok := a.(extraArger); ok {
		if extra, err = x.extraArgs(); err != nil {
			argBufs.Put(buf)
			return nil, fmt.Errorf("session: encode script argument: %w", err)
		}
	}
	var v any
	if extra == nil {
		v, err = m.kv.Run(ctx, s, nil, arg)
	} else {
		v, err = m.kv.Run(ctx, s, nil, append([]any{arg}, extra...)...)
	}
	// Every transport has sent (or copied) arg once Run returns.
	if cap(arg) <= maxPooledArg {
		*buf = arg
		argBufs.Put(buf)
	}
	if err != nil {
		return nil, err
	}
	r, ok := v.([]any)
	if !ok || len(r) == 0 {
		return nil, fmt.Errorf("session: unexpected script reply %T", v)
	}
	if str(r, 0) == "rate" {
		return nil, rateError(r)
	}
	return r, nil
}

// extraArger is a script argument with more to send after the JSON object
// A (ARGV[1]): values a script reads only in some cases, which it would
// otherwise decode on every call.
type extraArger interface {
	extraArgs() ([]any, error)
}

// encodeArg is the JSON of a script argument, appended to b: by its own
// appendJSON on the hot paths (introspection, bearer checks, refresh), by
// encoding/json otherwise; both give the same bytes (jsonw_test.go).
func encodeArg(b []byte, a any) ([]byte, error) {
	ja, ok := a.(jsonAppender)
	if !ok {
		j, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		return append(b, j...), nil
	}
	w := jw{b: b}
	ja.appendJSON(&w)
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

// argBufs recycles script argument buffers; one above maxPooledArg (a
// large batch) is left to the collector.
var argBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledArg = 16 << 10

func rateError(r []any) error {
	wait := time.Duration(num(r, 2)) * time.Millisecond
	if wait < time.Second {
		wait = time.Second
	}
	return &RateLimitError{Rule: str(r, 1), RetryAfter: wait, Lockout: num(r, 3) == 1}
}

// str and num read reply element i leniently: a missing or mistyped
// element reads as "" or 0.
func str(r []any, i int) string {
	if i >= len(r) {
		return ""
	}
	switch v := r[i].(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

func num(r []any, i int) int64 {
	if i >= len(r) {
		return 0
	}
	switch v := r[i].(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// fields turns a flat HGETALL reply into a map.
func fields(v any) map[string]string {
	arr, _ := v.([]any)
	out := make(map[string]string, len(arr)/2)
	for i := 0; i+1 < len(arr); i += 2 {
		k, _ := arr[i].(string)
		val, _ := arr[i+1].(string)
		out[k] = val
	}
	return out
}

// isUnavailable reports whether err means the store could not be reached.
func isUnavailable(err error) bool { return errors.Is(err, kv.ErrUnavailable) }

func ms(t int64) time.Time { return time.UnixMilli(t).UTC() }
