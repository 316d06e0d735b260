// Package kvtest supports tests of code written against kv.Client.
//
// Transports (or Each) gives a fresh client per transport: the embedded
// store always; with REDIS_URL set, the native transport and the REST
// transport, both against that real Redis; without it, the REST transport
// over an in-process miniredis, so REST is exercised on every run. Front is
// a small Upstash-protocol HTTP server (request and reply shapes as Upstash
// documents them, base64 reply encoding, error JSON, 401, sync tokens) with
// fault injection for timeout, 5xx, garbage and dropped-connection tests.
//
// The real Redis is shared by packages whose tests run in parallel: use
// Prefix(t) for every key, and never FLUSHALL, FLUSHDB or SCRIPT FLUSH it.
package kvtest
