#!/usr/bin/env bash
# coldstart.sh - size and cold-start time of each Vercel function (issue 7).
#
# Every api/ handler is built the way Vercel builds a Go function
# (CGO_ENABLED=0 GOOS=linux GOARCH=amd64, -ldflags "-s -w"): Vercel's builder
# generates a main that imports the handler's package and serves the one
# exported handler through its Lambda bridge. We generate the same kind of
# main per handler (`loadgen handlers -gen`, outside the repository, applied
# with `go build -overlay`), serving the handler with net/http on loopback
# instead of the bridge. cmd/hello - a hello-world handler in that very
# main - is built the same way as the baseline, and so is cmd/sessiond (all
# handlers in one process). Then each binary is started COLDSTART_RUNS times,
# interleaved, and the time from exec to its first answered request is taken
# (loadgen polls the port in a tight loop); the table gives sizes in MB
# (10^6 bytes), the median time and the ratio to hello.
#
# Environment (all optional):
#   COLDSTART_RUNS       starts per binary (default 20)
#   COLDSTART_REDIS_URL  default redis://127.0.0.1:6379/9, the bench database: it is
#                        FLUSHDB'd (that database only; 0, the tests', is refused)
#                        before the run, so every run starts from the same empty
#                        store (the security summary's probe reads the audit window,
#                        which holds only what this run's probes leave)
#   COLDSTART_OUT        directory for binaries and the JSON report
#                        (default: a new /tmp/sessiond-coldstart.*)
#   GO_BUILD_FLAGS       the build flags, as Vercel's Go builder reads them from
#                        this variable (default: -ldflags "-s -w", Vercel's default)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${COLDSTART_RUNS:-20}"
REDIS_URL_CS="${COLDSTART_REDIS_URL:-redis://127.0.0.1:6379/9}"
out="${COLDSTART_OUT:-$(mktemp -d /tmp/sessiond-coldstart.XXXXXX)}"
bin="$out/bin"
gen="$out/gen"
mkdir -p "$bin" "$gen"

say() { printf 'coldstart: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# Split GO_BUILD_FLAGS with shell quoting, as it is written in vercel.json
# or a Vercel project's settings (the variable is the caller's own).
build_flags=(-ldflags "-s -w")
if [[ -n "${GO_BUILD_FLAGS:-}" ]]; then
	eval "build_flags=($GO_BUILD_FLAGS)"
fi

vercel_build() { # as Vercel builds a Go function
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build "${build_flags[@]}" "$@"
}

cd "$repo"
say "building loadgen"
go build -o "$bin/loadgen" ./cmd/loadgen

say "building hello (baseline) as Vercel would"
vercel_build -o "$bin/hello" ./cmd/hello
targets=("hello=$bin/hello@/")

if ls cmd/sessiond/*.go >/dev/null 2>&1; then
	say "building cmd/sessiond as Vercel would"
	vercel_build -o "$bin/sessiond" ./cmd/sessiond
	targets+=("sessiond=$bin/sessiond@/api/health")
else
	say "cmd/sessiond has no Go files yet: skipped"
fi

nfn=0
if [[ -d api ]]; then
	"$bin/loadgen" handlers -root "$repo" -gen "$gen" api >"$out/handlers.tsv"
	while IFS=$'\t' read -r name route file fn; do
		say "building $file ($fn) as function $name"
		vercel_build -overlay "$gen/overlay.json" -o "$bin/fn-$name" "./coldstartgen/$name"
		targets+=("$name=$bin/fn-$name@$route")
		nfn=$((nfn + 1))
	done <"$out/handlers.tsv"
fi
[[ $nfn -gt 0 ]] || say "no handler found under api/: functions skipped"

# Configuration as in production: a real signing key and encryption key
# (parsed at start), no dev-only generation; the KV store chosen below.
unset KV_REST_API_URL KV_REST_API_TOKEN UPSTASH_REDIS_REST_URL UPSTASH_REDIS_REST_TOKEN REDIS_URL KV_URL VERCEL_ENV
# What Vercel's runtime sets in every function: with it, pkg/httpapi builds
# the App and opens the store's connection while the process waits for its
# first request (prewarm.go). hello ignores it.
export VERCEL=1
if command -v openssl >/dev/null; then
	SESSION_JWT_PRIVATE_KEY="$(openssl genpkey -algorithm ed25519 2>/dev/null)"
	export SESSION_JWT_PRIVATE_KEY
else
	say "openssl not found: functions generate their dev signing key at start"
fi
SESSION_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)"
SESSION_ADMIN_KEY="$(head -c 32 /dev/urandom | base64 | tr -d '/+=')"
SESSION_INTROSPECT_KEY="$(head -c 32 /dev/urandom | base64 | tr -d '/+=')"
export SESSION_ENCRYPTION_KEY SESSION_ADMIN_KEY SESSION_INTROSPECT_KEY
# The functions' store: Redis (they do not link the embedded store, which
# only cmd/sessiond has; on Vercel they always talk to a remote store).
[[ "$REDIS_URL_CS" =~ ^redis://([^/@]*@)?(127\.[0-9.]+|localhost)(:[0-9]+)?/([0-9]+)$ ]] ||
	die "COLDSTART_REDIS_URL must be a loopback redis:// URL with an explicit database, e.g. redis://127.0.0.1:6379/9"
[[ "${BASH_REMATCH[4]}" != 0 ]] || die "COLDSTART_REDIS_URL uses database 0, which the tests use; pick another (default 9)"
command -v redis-cli >/dev/null && redis-cli -u "$REDIS_URL_CS" PING >/dev/null 2>&1 ||
	die "Redis at $REDIS_URL_CS does not answer: the functions need a store (they have no embedded one)"
redis-cli -u "$REDIS_URL_CS" FLUSHDB >/dev/null
export REDIS_URL="$REDIS_URL_CS"

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPUs, $RUNS starts per binary, store: redis, $(go version | cut -d' ' -f3), build flags: ${build_flags[*]}"
timeout 900 "$bin/loadgen" coldstart -n "$RUNS" -baseline hello -json "$out/coldstart.json" "${targets[@]}"

say "binaries and coldstart.json in $out"
