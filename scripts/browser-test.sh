#!/usr/bin/env bash
# browser-test.sh - the browser tests of the example app (issue 8): builds
# cmd/sessiond, starts it twice on free loopback ports with the embedded
# store (one in cookie mode, one in token mode), runs web/e2e/*.test.mjs with
# node's own test runner in headless Chromium (Debian's package, driven by
# playwright-core from node_modules), and stops both servers at the end.
#
#   scripts/browser-test.sh                           # every test
#   scripts/browser-test.sh web/e2e/tabs.test.mjs     # some of them
#
# Needs: go, node 20+, `npm ci` (playwright-core), and Chromium:
#   apt-get install -y --no-install-recommends chromium
# Writes out/sessions.png and out/sessions-mobile.png (screenshots of the
# sessions page) and out/e2e/sessiond-*.log (the servers' logs: paths and
# statuses only, never a token). Exits non-zero when a test fails.
#
# Environment:
#   CHROMIUM              the browser (default /usr/bin/chromium)
#   E2E_OUT_DIR           where screenshots and logs go (default out/)
#   BROWSER_TEST_TIMEOUT  seconds the whole node run may take (default 110)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

chromium="${CHROMIUM:-/usr/bin/chromium}"
out="${E2E_OUT_DIR:-$root/out}"
limit="${BROWSER_TEST_TIMEOUT:-110}"

die() {
	echo "browser-test: $*" >&2
	exit 2
}
[[ -x "$chromium" ]] || die "$chromium not found: apt-get install -y --no-install-recommends chromium (or set CHROMIUM)"
command -v go >/dev/null || die "go is required"
command -v node >/dev/null || die "node is required"
[[ -f node_modules/playwright-core/package.json ]] || die "playwright-core is not installed: run npm ci"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/browser-test.XXXXXX")"
pids=()

# stop_all ends the servers this script started (by PID: TERM, then KILL
# after 5 s) and removes the build.
stop_all() {
	local pid i
	for pid in ${pids[@]+"${pids[@]}"}; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in ${pids[@]+"${pids[@]}"}; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

mkdir -p "$out/e2e"
echo "browser-test: building cmd/sessiond"
go build -o "$tmp/sessiond" ./cmd/sessiond

# A fresh admin key per run (64 hex digits), shared by both servers and the tests.
admin_key="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
[[ ${#admin_key} -eq 64 ]] || die "could not read /dev/urandom"

# free_port prints a port that was free a moment ago (the server may still
# lose it to someone else: start_sessiond then tries another).
free_port() {
	node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# wait_ready URL PID COOKIE: waits up to 15 s until the server answers
# /api/health with 200 and /dev/config says the expected mode; fails at once
# if the process died (e.g. the port was taken).
wait_ready() {
	node - "$1" "$2" "$3" <<'EOF'
const [url, pid, cookie] = process.argv.slice(2);
const deadline = Date.now() + 15_000;
const alive = () => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
(async () => {
  while (Date.now() < deadline) {
    if (!alive()) { console.error(`sessiond (pid ${pid}) exited`); process.exit(1); }
    try {
      const health = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
      if (health.status === 200) {
        const cfg = await (await fetch(`${url}/dev/config`, { signal: AbortSignal.timeout(1000) })).json();
        if (cfg.cookie_mode !== (cookie === '1')) {
          console.error(`${url}/dev/config says cookie_mode=${cfg.cookie_mode}, expected ${cookie === '1'}`);
          process.exit(1);
        }
        process.exit(0);
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error(`${url} did not become ready in 15 s`);
  process.exit(1);
})();
EOF
}

# start_sessiond NAME COOKIE: starts a server (COOKIE 1: cookie mode) with a
# clean environment, so no REDIS_URL/KV_* of the caller's shell can point it
# at a shared store: the embedded store, generated signing and encryption
# keys, dev routes on (no VERCEL_ENV). Sets $started_url.
start_sessiond() {
	local name="$1" cookie="$2" log="$out/e2e/sessiond-$1.log" attempt port pid
	for attempt in 1 2 3; do
		port="$(free_port)"
		env -i PATH="$PATH" HOME="$tmp" TMPDIR="$tmp" \
			PORT="$port" \
			SESSION_COOKIE_MODE="$cookie" \
			SESSION_ALLOWED_ORIGINS="http://127.0.0.1:$port" \
			SESSION_ADMIN_KEY="$admin_key" \
			"$tmp/sessiond" >"$log" 2>&1 &
		pid=$!
		pids+=("$pid")
		if wait_ready "http://127.0.0.1:$port" "$pid" "$cookie"; then
			started_url="http://127.0.0.1:$port"
			echo "browser-test: sessiond ($name mode) on $started_url, pid $pid, log $log"
			return 0
		fi
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		echo "browser-test: sessiond ($name mode) did not start on port $port (attempt $attempt):" >&2
		tail -n 5 "$log" >&2 || true
	done
	die "could not start sessiond ($name mode)"
}

start_sessiond cookie 1
cookie_url="$started_url"
start_sessiond token 0
token_url="$started_url"

if (($# > 0)); then
	files=("$@")
else
	files=(web/e2e/*.test.mjs)
fi

echo "browser-test: $("$chromium" --version 2>/dev/null | head -n 1), playwright-core $(node -p 'require("playwright-core/package.json").version')"
status=0
SESSIOND_URL="$cookie_url" SESSIOND_TOKEN_URL="$token_url" SESSION_ADMIN_KEY="$admin_key" \
	CHROMIUM="$chromium" E2E_OUT_DIR="$out" \
	timeout --kill-after=10 "$limit" \
	node --test --test-concurrency=1 \
	--test-reporter=spec --test-reporter-destination=stdout \
	--test-reporter=tap --test-reporter-destination="$tmp/results.tap" \
	"${files[@]}" || status=$?

# A skipped test would be a silent pass (e.g. an environment variable lost
# on the way): refuse it.
if ((status == 0)) && ! grep -qx '# skipped 0' "$tmp/results.tap"; then
	echo "browser-test: some tests were skipped:" >&2
	grep -E '# SKIP' "$tmp/results.tap" >&2 || true
	status=1
fi
if ((status == 0)) && grep -qx '# pass 0' "$tmp/results.tap"; then
	echo "browser-test: no test ran" >&2
	status=1
fi

if ((status != 0)); then
	((status == 124)) && echo "browser-test: the tests did not finish in ${limit} s" >&2
	for name in cookie token; do
		echo "--- last lines of out/e2e/sessiond-$name.log" >&2
		tail -n 30 "$out/e2e/sessiond-$name.log" >&2 || true
	done
	echo "browser-test: FAILED (exit $status)" >&2
	exit 1
fi
echo "browser-test: ok (screenshots in ${out#"$root"/}/sessions.png, ${out#"$root"/}/sessions-mobile.png)"
