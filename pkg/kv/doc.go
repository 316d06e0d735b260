// Package kv is the service's only way to its store: Redis commands and Lua
// scripts over one of three transports, with one reply model and one error
// model, so that all session logic is written once and runs the same on
// Vercel KV (Upstash), on a real Redis and in-process.
//
// # Model
//
// A Client does a command (Do), a batch (Pipeline) or a script (Run). Each
// call is one round trip; Run takes one more, once, when the store does not
// know the script yet (NOSCRIPT: first use, or after SCRIPT FLUSH), sending
// SCRIPT LOAD and EVALSHA together. A pipeline is not atomic: anything that
// checks and then writes is a Script (Lua runs atomically in Redis). Replies
// are string, int64, []any or nil (see Client); a nil reply at the top level
// is ErrNotFound. Counting wraps a Client to count trips, so tests can pin
// "one round trip per operation".
//
// # Transports (Open picks one from the environment, SPEC "KV selection")
//
//   - REST (KV_REST_API_URL/TOKEN or UPSTASH_REDIS_REST_URL/TOKEN): the
//     Upstash REST API over net/http, keep-alive connections shared per
//     process, replies base64-encoded (binary safe; arguments that are not
//     UTF-8 go through a small Lua trampoline, see rest_encode.go),
//     upstash-sync-token carried for read-your-writes, retries only where
//     they cannot apply a write twice (see REST).
//   - Redis (REDIS_URL or KV_URL): RESP2 over go-redis, no automatic
//     resends, dial timeout 1s, a closed port fails at once. Single
//     commands (Do, and Run's EVALSHA) issued at the same moment by
//     concurrent callers share one pipelined write and read (autopipe.go;
//     SESSIOND_KV_LANES, Redis.SetPipelineLanes); each keeps its own reply
//     and error.
//   - Embedded (nothing set; refused when VERCEL_ENV=production): miniredis
//     in-process, reached through the Redis transport itself. It lives in
//     pkg/kv/embedded and exists only in binaries that import that package
//     (cmd/sessiond, tests): the Vercel functions never link it, so Open
//     there reports the missing configuration instead.
//
// # Errors
//
//   - ErrNotFound: a nil reply.
//   - *RedisError: the store refused (WRONGTYPE, NOSCRIPT, a script error,
//     a 400 from Upstash). Retrying the same call will not help.
//   - *TransportError, *HTTPError: the store could not be reached or its
//     answer was lost or unreadable; both wrap ErrUnavailable (-> 503).
//   - ErrInvalidArg, ErrConfig: programming and configuration errors.
//
// Tokens and passwords never appear in errors, logs or Info.
//
// # Figures
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go test ./pkg/kv -run '^$' -bench . -benchtime 2000x -count 3
//
// run on 2026-11-27 on a shared 2-core AMD EPYC VM (load average ~3.6
// during the run, so expect noise), Redis 7.0.15 on loopback; medians of
// the three runs:
//
//	                      GET                  pipeline of 3 (SET PX, INCR, HGET)
//	embedded (miniredis)  46.8 µs, 24 allocs   93.6 µs, 96 allocs
//	redis (native)        31.8 µs, 12 allocs   79.0 µs, 48 allocs
//	rest-redis            214.0 µs, 166 allocs 437.7 µs, 326 allocs
//
// REST over native, per call: 6.7x for a GET, 5.5x for the pipeline. The
// REST figures include the in-process Upstash-protocol front (kvtest.Front:
// HTTP server, JSON, base64, its own go-redis hop), so they bound the
// client's own cost from above; against Upstash the network round trip
// (milliseconds) dominates both transports.
package kv
