#!/usr/bin/env bash
# bench.sh - the load harness of issue 7.
#
# Builds cmd/sessiond and cmd/loadgen, starts sessiond on loopback against
# (a) the embedded store and (b) real Redis, seeds sessions and drives each
# endpoint at fixed concurrency levels for a bounded time, then the mixed
# profile (90 % introspect, 9 % refresh, 1 % create+revoke); then, with Ory
# Hydra v2.3.0 built (scripts/hydra-build.sh), Hydra's introspection and
# client_credentials token grant with the same generator at the same levels,
# and prints ours/Hydra ratios at concurrency 16. With the redis store it also
# measures the floor of the performance issue (`loadgen floor`: a bare
# net/http server doing one Redis GET per introspection) with the same
# generator, and says where ours and 8x Hydra stand against it. Everything it starts, it
# stops (trap). Loopback only; every load run is bounded in time and count.
#
# Environment (all optional):
#   BENCH_DURATION    measured time per level (default 5s)
#   BENCH_WARMUP      unmeasured load before each level (default 500ms)
#   BENCH_LEVELS      concurrency levels (default 1,16,64)
#   BENCH_SEED        sessions seeded for introspect/list/refresh/mixed (default 2000)
#   BENCH_REVOKE_POOL sessions created before each revoke level (default 30000),
#                     for at most BENCH_REVOKE_SEED_TIME (default 30s); the level ends
#                     when they are all revoked
#   BENCH_STORES      "embedded redis" (default); "" runs Hydra only
#   BENCH_SCENARIOS   default "introspect refresh create revoke list"; mixed always runs
#   BENCH_REDIS_URL   default redis://127.0.0.1:6379/9: a database the tests do not
#                     use; it is FLUSHDB'd (that database only) before the run.
#                     Database 0 is refused.
#   BENCH_HYDRA       auto (default: compare when already built), 1 (build if needed), 0 (skip)
#   HYDRA_DIR         where hydra-build.sh builds (default /tmp/sessiond-hydra)
#   BENCH_FLOOR       1 (default): when the redis store is measured, also measure the
#                     floor (loadgen floor against BENCH_REDIS_URL, scenario
#                     floor-introspect, and the wrk cross-check); 0 skips it
#   BENCH_WRK         auto (default: cross-check introspection at c=16 with wrk when
#                     installed), 0 (skip)
#   BENCH_ACCESS_LOG  sessiond's per-request log line (SESSIOND_ACCESS_LOG): 0 (default;
#                     Hydra runs with LOG_LEVEL=warn, which turns its request log off too)
#                     or 1
#   BENCH_PROFILE     1: after the scenarios, profile sessiond (redis store) for
#                     BENCH_PROFILE_SECONDS (default 8) under introspect and refresh at
#                     concurrency 16 (SESSIOND_PPROF); cpu-*.pprof and a top table in
#                     BENCH_OUT. Default 0.
#   BENCH_OUT         directory for reports and logs (default: a new /tmp/sessiond-bench.*)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DURATION="${BENCH_DURATION:-5s}"
BENCH_WARMUP="${BENCH_WARMUP:-500ms}"
BENCH_LEVELS="${BENCH_LEVELS:-1,16,64}"
BENCH_SEED="${BENCH_SEED:-2000}"
BENCH_REVOKE_POOL="${BENCH_REVOKE_POOL:-30000}"
BENCH_REVOKE_SEED_TIME="${BENCH_REVOKE_SEED_TIME:-30s}"
BENCH_STORES="${BENCH_STORES-embedded redis}"
BENCH_SCENARIOS="${BENCH_SCENARIOS:-introspect refresh create revoke list}"
BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/9}"
BENCH_HYDRA="${BENCH_HYDRA:-auto}"
BENCH_WRK="${BENCH_WRK:-auto}"
BENCH_FLOOR="${BENCH_FLOOR:-1}"
HYDRA_DIR="${HYDRA_DIR:-/tmp/sessiond-hydra}"
BENCH_ACCESS_LOG="${BENCH_ACCESS_LOG:-0}"
BENCH_PROFILE="${BENCH_PROFILE:-0}"
BENCH_PROFILE_SECONDS="${BENCH_PROFILE_SECONDS:-8}"
export HYDRA_DIR

out="${BENCH_OUT:-$(mktemp -d /tmp/sessiond-bench.XXXXXX)}"
mkdir -p "$out"
bin="$out/bin"
mkdir -p "$bin"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# ---- processes we start, stopped on any exit -------------------------------
pids=()
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local pid
	for pid in "${pids[@]}"; do stop_pid "$pid"; done
	pids=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
	local keep=() p
	for p in "${pids[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
	pids=("${keep[@]}")
}

# Each load run is bounded by loadgen itself (-d, -n, hard caps); this
# outer limit only guards against a hung target.
LIMIT=900
lg() { timeout --kill-after=10 "$LIMIT" "$bin/loadgen" "$@"; }

random_key() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n'; }

# wrk_introspect NAME URL TOKEN AUTH: the wrk cross-check of an introspection
# endpoint at concurrency 16, into $out/NAME-wrk-introspect.txt. The token and
# the Authorization value travel in the environment, never on a command line.
# Callers check want_wrk first (getting a token may create a session).
want_wrk() { [[ "$BENCH_WRK" != 0 ]] && command -v wrk >/dev/null; }
wrk_introspect() {
	local url=$2 f="$out/$1-wrk-introspect.txt"
	WRK_TOKEN="$3" WRK_AUTH="$4" timeout 120 wrk -t2 -c16 -d"$BENCH_DURATION" --latency \
		-s "$repo/scripts/wrk-introspect.lua" "$url" >"$f" 2>&1 || say "wrk run failed (see $f)"
}

# ---- build -----------------------------------------------------------------
load_at_start="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
say "building loadgen into $bin"
(cd "$repo" && go build -o "$bin/loadgen" ./cmd/loadgen)
if [[ -n "${BENCH_STORES// /}" ]]; then
	if ! ls "$repo"/cmd/sessiond/*.go >/dev/null 2>&1; then
		die "cmd/sessiond has no Go files yet: nothing to measure (BENCH_STORES= runs Hydra only)"
	fi
	say "building sessiond into $bin"
	(cd "$repo" && go build -o "$bin/sessiond" ./cmd/sessiond)
fi

export SESSION_ADMIN_KEY SESSION_INTROSPECT_KEY
SESSION_ADMIN_KEY="$(random_key)"
SESSION_INTROSPECT_KEY="$(random_key)"

common=(-c "$BENCH_LEVELS" -d "$BENCH_DURATION" -warmup "$BENCH_WARMUP" -seed "$BENCH_SEED")
reports=()
failed=()

# ---- sessiond --------------------------------------------------------------
check_redis_url() {
	local url=$1 rest hostport host db
	[[ "$url" =~ ^redis://([^/@]*@)?([^/]+)/([0-9]+)$ ]] || die "BENCH_REDIS_URL must look like redis://127.0.0.1:6379/9 (explicit database)"
	hostport="${BASH_REMATCH[2]}"
	db="${BASH_REMATCH[3]}"
	host="${hostport%:*}"
	case "$host" in 127.*|localhost|"[::1]") ;; *) die "BENCH_REDIS_URL must point at loopback, not $host" ;; esac
	[[ "$db" != 0 ]] || die "BENCH_REDIS_URL uses database 0, which the tests use; pick another (default 9)"
}

start_sessiond() { # store [pprof addr] -> sets sd_pid, sd_url
	local store=$1 pprof=${2:-} port
	port="$("$bin/loadgen" freeport)"
	local envs=(-u KV_REST_API_URL -u KV_REST_API_TOKEN -u UPSTASH_REDIS_REST_URL -u UPSTASH_REDIS_REST_TOKEN
		-u REDIS_URL -u KV_URL -u VERCEL_ENV -u VERCEL -u SESSIOND_PPROF
		ADDR="127.0.0.1:$port" PORT="$port" SESSION_RATE_LIMIT_SCALE=0
		SESSION_ISSUER="http://127.0.0.1:$port" SESSIOND_ACCESS_LOG="$BENCH_ACCESS_LOG")
	if [[ "$store" == redis ]]; then
		envs+=(REDIS_URL="$BENCH_REDIS_URL")
	fi
	if [[ -n "$pprof" ]]; then
		envs+=(SESSIOND_PPROF="$pprof")
	fi
	env "${envs[@]}" "$bin/sessiond" >"$out/sessiond-$store.log" 2>&1 &
	sd_pid=$!
	pids+=("$sd_pid")
	sd_url="http://127.0.0.1:$port"
	if ! "$bin/loadgen" wait -timeout 30s "$sd_url/api/health"; then
		tail -5 "$out/sessiond-$store.log" >&2 || true
		die "sessiond ($store) did not become healthy"
	fi
	say "sessiond ($store) up at $sd_url, pid $sd_pid"
}

# Redis's per-command statistics (server-wide: other clients of the same
# server show up too), sampled around each scenario; the report prints
# EVALSHA's calls and microseconds per call in between (the scripts' own
# cost inside Redis).
redis_stats() {
	command -v redis-cli >/dev/null && redis-cli -u "$BENCH_REDIS_URL" INFO commandstats 2>/dev/null | tr -d '\r' || true
}
evalsha_delta() { # before after -> "calls usec_per_call"
	awk -F'[:,=]' '/^cmdstat_evalsha:/ { c[FILENAME] = $3; u[FILENAME] = $5 }
		END { n = 0; for (f in c) { n++ } ; if (n < 2) exit
		      dc = c[ARGV[2]] - c[ARGV[1]]; du = u[ARGV[2]] - u[ARGV[1]]
		      if (dc > 0) printf "%d EVALSHA calls, %.1f us per call\n", dc, du / dc }' "$1" "$2"
}

for store in $BENCH_STORES; do
	case "$store" in
	embedded) ;;
	redis)
		check_redis_url "$BENCH_REDIS_URL"
		if command -v redis-cli >/dev/null; then
			redis-cli -u "$BENCH_REDIS_URL" PING >/dev/null 2>&1 || { say "Redis at $BENCH_REDIS_URL does not answer: skipping the redis store"; continue; }
			redis-cli -u "$BENCH_REDIS_URL" FLUSHDB >/dev/null
		else
			say "redis-cli not found: $BENCH_REDIS_URL is not flushed (keys of this run are distinct anyway)"
		fi
		;;
	*) die "unknown store $store (embedded or redis)" ;;
	esac
	start_sessiond "$store"
	for sc in $BENCH_SCENARIOS mixed; do
		extra=()
		# Revocation uses up its pool: no warm-up, so the pool is all measured.
		[[ "$sc" == revoke ]] && extra=(-warmup 0 -revoke-pool "$BENCH_REVOKE_POOL" -revoke-seed-time "$BENCH_REVOKE_SEED_TIME")
		f="$out/$store-$sc.json"
		[[ "$store" == redis ]] && redis_stats >"$out/redis-$sc.before"
		if lg run -scenario "$sc" -target "$sd_url" -label "$store" -pid "$sd_pid" -json "$f" "${common[@]}" "${extra[@]}" >/dev/null; then
			reports+=("$f")
		else
			failed+=("$store/$sc")
		fi
		[[ "$store" == redis ]] && redis_stats >"$out/redis-$sc.after"
		kill -0 "$sd_pid" 2>/dev/null || { failed+=("$store: sessiond exited"); break; }
	done
	if want_wrk; then
		wrk_introspect "$store" "$sd_url/api/introspect" "$("$bin/loadgen" token -target "$sd_url")" "Bearer $SESSION_INTROSPECT_KEY"
	fi
	stop_pid "$sd_pid"
	forget_pid "$sd_pid"
	if [[ "$store" == redis ]] && command -v redis-cli >/dev/null; then
		redis-cli -u "$BENCH_REDIS_URL" FLUSHDB >/dev/null || true
	fi
done

# ---- the floor: bare net/http + one Redis GET per request ------------------
# The performance issue's floor, measured here rather than quoted: the same
# generator, request and levels as sessiond's introspect, against a server
# that does nothing but check the bearer key and GET one Redis key.
if [[ "$BENCH_FLOOR" != 0 ]] && [[ " $BENCH_STORES " == *" redis "* ]]; then
	check_redis_url "$BENCH_REDIS_URL"
	if command -v redis-cli >/dev/null && ! redis-cli -u "$BENCH_REDIS_URL" PING >/dev/null 2>&1; then
		say "Redis at $BENCH_REDIS_URL does not answer: no floor"
	else
		port="$("$bin/loadgen" freeport)"
		fl_url="http://127.0.0.1:$port"
		"$bin/loadgen" floor -addr "127.0.0.1:$port" -redis "$BENCH_REDIS_URL" >"$out/floor.log" 2>&1 &
		fl_pid=$!
		pids+=("$fl_pid")
		if "$bin/loadgen" wait -timeout 30s "$fl_url/api/health"; then
			say "floor up at $fl_url, pid $fl_pid"
			f="$out/floor-introspect.json"
			if lg run -scenario floor-introspect -target "$fl_url" -label floor -pid "$fl_pid" -json "$f" "${common[@]}" >/dev/null; then
				reports+=("$f")
			else
				failed+=("floor/floor-introspect")
			fi
			if want_wrk; then
				# The floor answers active for any token: a random one of 300 URL-safe characters.
				wrk_introspect floor "$fl_url/api/introspect" "$(head -c 225 /dev/urandom | base64 | tr -d '\n' | tr '+/' '-_')" \
					"Bearer $SESSION_INTROSPECT_KEY"
			fi
		else
			tail -5 "$out/floor.log" >&2 || true
			failed+=("floor: did not become healthy")
		fi
		stop_pid "$fl_pid"
		forget_pid "$fl_pid"
	fi
fi

# ---- CPU profiles (optional) -------------------------------------------------
if [[ "$BENCH_PROFILE" == 1 ]] && [[ " $BENCH_STORES " == *" redis "* ]]; then
	command -v curl >/dev/null || die "BENCH_PROFILE=1 needs curl"
	if command -v redis-cli >/dev/null; then redis-cli -u "$BENCH_REDIS_URL" FLUSHDB >/dev/null; fi
	pp="127.0.0.1:$("$bin/loadgen" freeport)"
	start_sessiond redis "$pp"
	for sc in introspect refresh; do
		# The load runs 4 s longer than the profile, which starts 2 s in.
		lg run -scenario "$sc" -target "$sd_url" -label redis -pid "$sd_pid" -c 16 \
			-d "$((BENCH_PROFILE_SECONDS + 4))s" -warmup 500ms -seed "$BENCH_SEED" -json "$out/profile-load-$sc.json" >/dev/null &
		lpid=$!
		sleep 2
		curl -sf -o "$out/cpu-redis-$sc.pprof" "http://$pp/debug/pprof/profile?seconds=$BENCH_PROFILE_SECONDS" ||
			say "profile of $sc failed"
		wait "$lpid" || failed+=("profile load $sc")
		go tool pprof -top -nodecount=40 "$bin/sessiond" "$out/cpu-redis-$sc.pprof" >"$out/cpu-redis-$sc.top.txt" 2>/dev/null || true
		go tool pprof -top -cum -nodecount=60 "$bin/sessiond" "$out/cpu-redis-$sc.pprof" >"$out/cpu-redis-$sc.cum.txt" 2>/dev/null || true
	done
	stop_pid "$sd_pid"
	forget_pid "$sd_pid"
	if command -v redis-cli >/dev/null; then redis-cli -u "$BENCH_REDIS_URL" FLUSHDB >/dev/null || true; fi
fi

# ---- Ory Hydra -------------------------------------------------------------
hydra_bin="$HYDRA_DIR/hydra"
case "$BENCH_HYDRA" in
0) hydra_bin="" ;;
1) hydra_bin="$("$repo/scripts/hydra-build.sh" | tail -1)" ;;
auto) [[ -x "$hydra_bin" ]] || { say "Hydra not built ($hydra_bin): no side-by-side (BENCH_HYDRA=1 builds it)"; hydra_bin=""; } ;;
*) die "BENCH_HYDRA must be auto, 0 or 1" ;;
esac

if [[ -n "$hydra_bin" ]]; then
	pub="$("$bin/loadgen" freeport)"
	adm="$("$bin/loadgen" freeport)"
	[[ "$pub" != "$adm" ]] || adm="$("$bin/loadgen" freeport)"
	# DSN=memory: in-process SQLite. PBKDF2 at 1 iteration so that the client
	# secret hashing policy is not what is compared (issue 7). Telemetry off
	# (it would leave the machine), request logs off (they are not ours to pay).
	(cd "$out" && exec env DSN=memory \
		SERVE_PUBLIC_PORT="$pub" SERVE_ADMIN_PORT="$adm" SERVE_PUBLIC_HOST=127.0.0.1 SERVE_ADMIN_HOST=127.0.0.1 \
		URLS_SELF_ISSUER="http://127.0.0.1:$pub" SECRETS_SYSTEM="$(random_key)" \
		OAUTH2_HASHERS_PBKDF2_ITERATIONS=1 SQA_OPT_OUT=true LOG_LEVEL="${BENCH_HYDRA_LOG_LEVEL:-warn}" \
		"$hydra_bin" serve all --dev --sqa-opt-out) >"$out/hydra.log" 2>&1 &
	hy_pid=$!
	pids+=("$hy_pid")
	if ! "$bin/loadgen" wait -timeout 60s "http://127.0.0.1:$adm/health/ready"; then
		tail -5 "$out/hydra.log" >&2 || true
		die "Hydra did not become ready"
	fi
	say "Hydra up: public :$pub admin :$adm, pid $hy_pid"
	hy=(-hydra-public "http://127.0.0.1:$pub" -hydra-admin "http://127.0.0.1:$adm" -pid "$hy_pid" -label hydra)
	for sc in hydra-introspect hydra-token; do
		f="$out/$sc.json"
		if lg run -scenario "$sc" "${hy[@]}" -json "$f" "${common[@]}" >/dev/null; then
			reports+=("$f")
		else
			failed+=("$sc")
		fi
	done
	if want_wrk; then
		wrk_introspect hydra "http://127.0.0.1:$adm/admin/oauth2/introspect" \
			"$("$bin/loadgen" token -hydra-public "http://127.0.0.1:$pub" -hydra-admin "http://127.0.0.1:$adm")" ""
	fi
	stop_pid "$hy_pid"
	forget_pid "$hy_pid"
fi

# ---- report ----------------------------------------------------------------
[[ ${#reports[@]} -gt 0 ]] || die "nothing was measured${failed:+ (failed: ${failed[*]})}"
echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPUs, levels $BENCH_LEVELS, ${BENCH_DURATION} per level; reports in $out"
echo "== load average at start: $load_at_start, at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
echo "== other cores: CPU the machine spent outside sessiond/Hydra and the generator during each level (Redis, anything else)"
"$bin/loadgen" summary -ratio-c 16 -json "$out/summary.json" "${reports[@]}"
for f in "$out"/redis-*.before; do
	[[ -e "$f" ]] || continue
	sc="${f##*/redis-}"
	sc="${sc%.before}"
	d="$(evalsha_delta "$f" "${f%.before}.after" 2>/dev/null || true)"
	[[ -n "$d" ]] && echo "== Redis during redis/$sc: $d"
done
for f in "$out"/*-wrk-introspect.txt; do
	[[ -e "$f" ]] || continue
	echo "== wrk cross-check: $(basename "$f")"
	grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx|inactive' "$f" || true
done
if [[ ${#failed[@]} -gt 0 ]]; then
	say "FAILED: ${failed[*]} (see the logs in $out)"
	exit 1
fi
