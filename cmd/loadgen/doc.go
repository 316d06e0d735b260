// Command loadgen is the load generator of issue 7: it drives sessiond (the
// HTTP contract of /work/shared/SPEC.md) and Ory Hydra v2 with the same
// client, at fixed concurrency levels, and reports requests per second,
// latency quantiles, errors by class, and the target's memory and CPU.
//
// Subcommands:
//
//	run        one scenario at each level of -c (introspect, refresh, create,
//	           revoke, list, mixed; hydra-introspect, hydra-token;
//	           floor-introspect)
//	summary    a table of run reports, the ours/Hydra ratios at -ratio-c and
//	           where ours and 8x Hydra stand against the floor
//	floor      the floor of the performance issue: a bare net/http server
//	           doing one Redis GET per introspection (floor.go), measured
//	           with floor-introspect in the same run as sessiond and Hydra
//	coldstart  sizes of binaries and their exec-to-first-answer times
//	handlers   the Vercel functions under api/, optionally generating a main
//	           for each (applied with go build -overlay; nothing is written
//	           into the repository)
//	freeport, wait, token  small helpers for scripts/bench.sh
//
// The model: a level runs -c workers, each with one request in flight on its
// own keep-alive connection (closed loop), for an unmeasured warm-up and then
// the measured duration; a worker's Step may send more than one request (the
// mixed profile's create+revoke) and records each under its operation name.
// Latencies go into per-worker log-linear histograms (hist.go), merged when
// the level ends.
//
// Safety: targets must be loopback (URLs are checked, and every dial is
// checked again after name resolution), levels are bounded in time (-d, at
// most 10 minutes) and in steps (-n), and secrets are read from the
// environment (SESSION_ADMIN_KEY, SESSION_INTROSPECT_KEY), never from flags,
// and never printed. The floor server listens on loopback only, talks to a
// loopback Redis in a database other than 0, and exits after -d (at most 10
// minutes), deleting its one key.
package main
