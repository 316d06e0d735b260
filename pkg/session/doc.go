// Package session is the core of the service: the life of sessions, their
// rotating refresh tokens, revocation, hijack scoring, rate limits and the
// audit trail, all held in one KV store (Redis commands and Lua, see pkg/kv)
// that many serverless instances share.
//
// # Model
//
// A session belongs to one user and moves through the states of [State]:
// active, then idle (no refresh for IdleTimeout), expired (AbsoluteTimeout
// after creation), revoked (logout, revocation, refresh-token reuse),
// terminated (evicted by the per-user limit, upstream grant ended) or
// suspended (hijack suspected; resumable by the admin or another session of
// the user). Ended states are final.
//
// Tokens:
//
//   - Access token: an RFC 9068 JWT signed with Ed25519. Its jti is derived
//     from (session, generation) and its iat is the generation's rotation
//     time, so the access token of a generation is reproducible byte for byte.
//   - Refresh token: "rt1." + base64url(session id ‖ generation ‖ 256-bit
//     secret ‖ tag) (see pkg/token). Generation 0's secret is random; each
//     successor's is an HMAC of its predecessor under a server key. The store
//     keeps only SHA-256 hashes of the current and the previous token. The
//     tag (HMAC) lets garbage be refused without a store round trip and tells
//     a real rotated token from a forged one, so reuse of a real old token
//     ends the session while a guessed one cannot.
//   - Racing tabs: a token rotated less than RefreshGrace ago, presented
//     again while its successor is current, gets the very same successor
//     pair back (derived again from the presented token, nothing stored in
//     clear). There are never two live successors.
//
// # Keys (prefix P, default "sd:")
//
//	P s:<sid>      hash: the session (fields below); TTL = deadline + TombstoneTTL
//	P u:<uid>      sorted set: the user's sessions, score = creation ms
//	P live         sorted set: live sessions, score = deadline ms (cron, summary)
//	P susp         sorted set: suspended sessions
//	P h:<sid>      list: the last 50 refresh records of a session
//	P rj:<jti>     string: a revoked access token, until its exp
//	P a            stream: the audit trail; P a:u:<uid>, P a:s:<sid> the same
//	               events per user and per session (TTL = AuditRetention)
//	P rl:<rule>:<key>   GCRA state of a rate limit
//	P lf:<rule>:<key>   hash: failure count and lockout end
//	P as:<action>:<key> sampling marker of rate-limit audit events
//	P lease:up:<sid>    lease of the instance refreshing upstream tokens
//
// Session hash fields: uid st ca la idl abs (user, state, created, last
// active, idle and absolute deadlines in ms), gen rh ph pu rot (generation,
// current and previous refresh hashes, grace end, rotation time), ip ipn
// iph ua uaf (IP, its /24 or /48, recent IPs, user agent and its family),
// dev dvj (fingerprint features as sorted JSON text, compared as text first; and as sent), md (metadata JSON), sc
// (scope), up upx (sealed upstream tokens, their expiry), risk cw cc (last
// risk score, cadence window), er ea sa (end reason and time, suspension time).
//
// # Atomic steps
//
// Every operation that checks and then writes is one Lua script (lua/*.lua,
// each starting with lib.lua; headers list ARGV and replies): create.lua
// (per-user limit with eviction), refresh.lua (rotation, grace, reuse,
// risk, upstream check), check.lua (introspection and bearer auth; its
// common active case is answered by check_fast.lua, placed ahead of lib.lua
// so that lib's definitions are not even built for it),
// end.lua (logout, revoke by refresh token, batch, logout everywhere),
// revoke_access.lua, list.lua, update.lua, cleanup.lua, fail.lua. Each
// writes its audit events and runs its rate limits and lockouts inside the
// same script, so the trail cannot disagree with the state and limits cost
// no extra round trip. Expiry is lazy as well as native: every script that
// loads a session past its deadline ends it with the right event, and the
// store's TTLs drop abandoned ones. Times come from the injected clock
// (Config.Now), so expiry is tested without sleeping.
//
// # Round trips (TestRoundTrips, warm instance)
//
//	| operation                      | KV round trips | commands |
//	|--------------------------------|----------------|----------|
//	| create                         | 1              | EVALSHA  |
//	| refresh (no upstream work)     | 1              | EVALSHA  |
//	| introspect access token        | 1              | EVALSHA  |
//	| authenticate bearer            | 1              | EVALSHA  |
//	| list sessions                  | 1              | EVALSHA  |
//	| revoke access token            | 1              | EVALSHA  |
//	| revoke refresh token           | 1              | EVALSHA  |
//	| audit page                     | 1              | XREVRANGE |
//	| security summary               | 1              | pipeline XREVRANGE+ZCOUNT+ZCARD |
//
// A cold instance pays one more trip per script, once (NOSCRIPT, then
// EVAL). A refresh that must refresh upstream tokens first costs 3 for the
// lease holder (the refused run, lease_take.lua, the rotating run; plus
// the lease release) and the waiting instances poll one HGET per 50 ms: the provider
// call dominates either way.
//
// # Guarantees
//
//   - Refresh-token reuse after the grace window ends the whole session
//     (RFC 9700 §4.14.2); every refusal is one ErrInvalidGrant.
//   - Revocation is visible on the next check, on every instance: the
//     access-token check always reads the store (a verified-signature cache
//     may skip the Ed25519 check, never the store).
//   - The per-user limit holds under any concurrency (the count and the
//     eviction are one script).
//   - Upstream tokens are sealed with AES-256-GCM, the session id as
//     associated data; refresh tokens are stored hashed; no token is logged.
//
// # Benchmarks
//
// go test ./pkg/session -run '^$' -bench . -benchtime 2000x (REDIS_URL set
// for the redis rows; figures in docs/performance.md).
package session
