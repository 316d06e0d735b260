package kv

import (
	"context"
)

// Client runs Redis commands against one logical database. It is the whole
// surface the rest of the service needs of a store: every piece of session
// logic is written once, as Redis commands and Lua scripts, and runs the same
// on every transport (Upstash REST, native Redis, embedded).
//
// A Client is safe for concurrent use by many goroutines. Each method call is
// one round trip to the store (Run may take a second one, once per script and
// connection, when the store answers NOSCRIPT), which is what the round-trip
// counts in the package docs measure.
//
// Replies are decoded into a small set of Go types whatever the transport:
//
//	bulk or status string -> string (binary safe; Go strings hold any bytes)
//	integer               -> int64
//	array                 -> []any (nested replies decoded the same way)
//	nil / null            -> nil inside arrays; ErrNotFound at the top level
//	error inside an array -> *RedisError value (rare: a script returning a
//	                         table that holds an error table)
//
// Lua values follow Redis's own conversions, on every transport: numbers
// are truncated to integers, true is 1, false is nil, a table is an array up
// to its first nil.
//
// Errors: a reply error from Redis (WRONGTYPE, NOSCRIPT, an error raised by a
// script) is a *RedisError; a failure to reach the store or to understand its
// answer wraps ErrUnavailable (and is a *TransportError, or an *HTTPError for
// the REST transport). Neither is ever both.
type Client interface {
	// Do runs one command, e.g. Do(ctx, "SET", "k", "v", "PX", 1000).
	// Arguments may be string, []byte, int, int64, uint64, float64 or bool
	// (also int32, uint32, uint; bool is sent as "1" or "0", floats in the
	// shortest exact decimal form); any other type is ErrInvalidArg.
	// A nil reply returns ErrNotFound.
	Do(ctx context.Context, args ...any) (any, error)

	// Pipeline sends all commands in one round trip and returns one Result
	// per command, in order. A command that fails does not fail the others:
	// its Result carries the error. The returned error is non-nil only when
	// the batch as a whole could not be run (transport failure); then no
	// Result is returned and the caller cannot tell which commands ran.
	// (The REST transport also returns a *RedisError for the batch when
	// Upstash refuses the whole request with 400; then none ran.)
	// A pipeline is not a transaction: other clients' commands may
	// interleave. Use a Script for anything that must be atomic.
	Pipeline(ctx context.Context, cmds ...[]any) ([]Result, error)

	// Run executes a Lua script atomically with EVALSHA, falling back to EVAL
	// when the store answers NOSCRIPT (first use, or after SCRIPT FLUSH).
	// A nil reply returns ErrNotFound, as with Do. As with io.Writer, an
	// implementation must not keep args (a []byte may be reused by the
	// caller once Run returns).
	Run(ctx context.Context, s *Script, keys []string, args ...any) (any, error)

	// Close releases the client's connections. The embedded transport also
	// stops its in-process server.
	Close() error
}

// Result is the outcome of one command of a pipeline. Err is ErrNotFound
// for a nil reply, a *RedisError for a reply error, and nil otherwise.
type Result struct {
	Val any
	Err error
}
