package kv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Native transport defaults. A store that does not answer must turn into a
// 503 quickly, not hold a serverless invocation until its own timeout.
const (
	DefaultDialTimeout  = 1 * time.Second // per dial attempt
	DefaultReadTimeout  = 2 * time.Second // when the context has no earlier deadline
	DefaultWriteTimeout = 2 * time.Second
	DefaultPoolTimeout  = 2 * time.Second // waiting for a free pooled connection
)

// Redis is a Client over the native Redis protocol (RESP2), built on
// github.com/redis/go-redis/v9. It is safe for concurrent use; connections
// are pooled and reused.
type Redis struct {
	rdb  *redis.Client
	pipe *autoPipe
}

var (
	_ Client         = (*Redis)(nil)
	_ observedRunner = (*Redis)(nil)
)

// NewRedis returns a native Client. opts is copied, never modified. Zero
// timeouts get the Default* values above; the package then fixes what the
// Client contract depends on:
//   - Protocol 2 (RESP2), so replies have the same shapes as Upstash's REST
//     replies (no RESP3 maps, doubles or booleans);
//   - MaxRetries -1: go-redis would otherwise resend a command after a
//     broken connection, which can apply a write twice;
//   - two dial attempts 50ms apart (dialing cannot apply anything), so a
//     closed port fails in well under a second;
//   - ContextTimeoutEnabled, so context deadlines bound every call;
//   - no CLIENT SETINFO and no maintenance notifications (RESP3 only).
func NewRedis(opts *redis.Options) *Redis {
	o := *opts
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = DefaultPoolTimeout
	}
	o.Protocol = 2
	o.MaxRetries = -1
	o.DialerRetries = 2
	o.DialerRetryTimeout = 50 * time.Millisecond
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	rdb := redis.NewClient(&o)
	return &Redis{rdb: rdb, pipe: newAutoPipe(rdb, DefaultPipelineLanes)}
}

// SetPipelineLanes sets how many automatic pipelines (see autopipe.go) may
// be on the wire at once; 0 turns automatic pipelining off, so every Do and
// Run takes a pooled connection of its own. It must be called before the
// Client is used.
func (r *Redis) SetPipelineLanes(n int) {
	if n <= 0 {
		r.pipe = nil
		return
	}
	r.pipe = newAutoPipe(r.rdb, n)
}

// NewRedisURL parses a redis:// or rediss:// URL (with go-redis's ParseURL,
// so its query options work) and returns NewRedis of it. The error never
// contains the URL, which may hold a password.
func NewRedisURL(rawURL string) (*Redis, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return nil, fmt.Errorf("%w: invalid redis URL: %v", ErrConfig, err)
	}
	return NewRedis(opts), nil
}

// Do runs one command. See Client.
func (r *Redis) Do(ctx context.Context, args ...any) (any, error) {
	return r.doOp(ctx, "do", args)
}

// Pipeline sends the commands in one round trip. See Client.
func (r *Redis) Pipeline(ctx context.Context, cmds ...[]any) ([]Result, error) {
	return r.pipeOp(ctx, "pipeline", cmds)
}

// Run runs a script with EVALSHA and the NOSCRIPT fallback. See Client.
func (r *Redis) Run(ctx context.Context, s *Script, keys []string, args ...any) (any, error) {
	return runScript(ctx, r, s, keys, args, noTrip)
}

func (r *Redis) runObserved(ctx context.Context, s *Script, keys []string, args []any, trip func([]string)) (any, error) {
	return runScript(ctx, r, s, keys, args, trip)
}

// Close closes the connection pool. Calls after Close fail with a
// TransportError.
func (r *Redis) Close() error { return r.rdb.Close() }

func (r *Redis) doOp(ctx context.Context, op string, args []any) (any, error) {
	nargs, err := nativeArgs(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	var v any
	if r.pipe != nil {
		v, err = r.pipe.do(ctx, nargs)
	} else {
		v, err = r.rdb.Do(ctx, nargs...).Result()
	}
	if err != nil {
		return nil, classifyNative(ctx, op, err)
	}
	return normalizeNative(v), nil
}

func (r *Redis) pipeOp(ctx context.Context, op string, cmds [][]any) ([]Result, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	conv := make([][]any, len(cmds))
	for i, c := range cmds {
		nargs, err := nativeArgs(c)
		if err != nil {
			return nil, fmt.Errorf("command %d: %w", i, err)
		}
		conv[i] = nargs
	}
	if err := ctx.Err(); err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	pipe := r.rdb.Pipeline()
	rcmds := make([]*redis.Cmd, len(conv))
	for i, c := range conv {
		rcmds[i] = pipe.Do(ctx, c...)
	}
	_, _ = pipe.Exec(ctx) // per-command errors are read below
	out := make([]Result, len(rcmds))
	for i, c := range rcmds {
		v, err := c.Result()
		if err != nil {
			err = classifyNative(ctx, op, err)
			if isTransport(err) {
				// The connection failed mid-batch: the caller cannot tell
				// which commands ran, so the batch fails as a whole.
				return nil, err
			}
			out[i] = Result{Err: err}
			continue
		}
		out[i] = Result{Val: normalizeNative(v)}
	}
	return out, nil
}

// classifyNative maps a go-redis error onto the package's error model.
func classifyNative(ctx context.Context, op string, err error) error {
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	var re redis.Error
	if errors.As(err, &re) {
		return &RedisError{Msg: re.Error()}
	}
	if cerr := ctxCause(ctx, err); cerr != nil {
		return &TransportError{Op: op, Err: fmt.Errorf("%w (%v)", cerr, err)}
	}
	return &TransportError{Op: op, Err: err}
}

// ctxCause returns the context's error when it explains err. go-redis turns
// the context deadline into the socket deadline, so an expired context shows
// up as an i/o timeout, sometimes a moment before ctx.Err() is set; callers
// want errors.Is(err, context.DeadlineExceeded) all the same.
func ctxCause(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	var ne net.Error
	if dl, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

func isTransport(err error) bool {
	var te *TransportError
	return errors.As(err, &te)
}

// normalizeNative maps go-redis's RESP2 values onto the documented reply
// types. Status and bulk replies already arrive as string, integers as int64
// and nil as nil; an error nested in an array (EXEC, a script returning an
// error table inside a table) becomes a *RedisError value.
func normalizeNative(v any) any {
	switch t := v.(type) {
	case []any:
		// In place: the reply is ours alone once Result returned it.
		for i, e := range t {
			t[i] = normalizeNative(e)
		}
		return t
	case redis.Error:
		return &RedisError{Msg: t.Error()}
	case int:
		return int64(t)
	}
	return v
}
