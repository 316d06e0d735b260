#!/usr/bin/env bash
# vercel-build-check.sh - build every function with Vercel's own builder, offline
# from Vercel, and check the result.
#
# What it does (issue 4):
#   1. installs the Vercel CLI pinned at vercel@58.10.0 from npm into a folder
#      outside the Go module (reused when already there);
#   2. copies the repository's tracked files (plus new, not ignored ones) to a
#      temporary folder, so the working tree is never touched, less what
#      .vercelignore keeps out of an upload;
#   3. pins the toolchain there to the installed Go (`go mod edit -toolchain`;
#      the builder would otherwise download Go, which fails offline) and adds
#      the bridge modules the builder's generated main imports;
#   4. writes a local .vercel/project.json (no account, no network to Vercel);
#   5. runs `vercel build --yes --standalone` with CGO_ENABLED=0, telemetry off
#      and the CLI's caches in the temporary folder;
#   6. asserts one .func with an ELF `bootstrap` per api/**/*.go handler and
#      nothing else, the cron and the JWKS rewrite in .vercel/output/config.json,
#      and no Go source in the static output.
#
# Environment:
#   VERCEL_CLI_DIR   where the CLI is installed (default /tmp/sessiond-vercel-cli)
#   VERCEL_CHECK_KEEP=1  keep the temporary build folder (its path is printed)
# Exit status: 0 when every check passes.
set -euo pipefail

VERCEL_VERSION=58.10.0
GO_BRIDGE=github.com/vercel/go-bridge@v0.0.0-20221108222652-296f4c6bdb6d
LAMBDA_GO=github.com/aws/aws-lambda-go@v1.55.1

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli_dir="${VERCEL_CLI_DIR:-/tmp/sessiond-vercel-cli}"
case "$cli_dir/" in
"$repo"/*) echo "vercel-build-check: VERCEL_CLI_DIR must be outside the repository" >&2; exit 2 ;;
esac

for tool in go node npm git; do
	command -v "$tool" >/dev/null || { echo "vercel-build-check: $tool not found" >&2; exit 1; }
done

log() { echo "vercel-build-check: $*" >&2; }

work="$(mktemp -d /tmp/sessiond-vercel-build.XXXXXX)"
cleanup() {
	if [[ "${VERCEL_CHECK_KEEP:-0}" == 1 ]]; then
		log "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# 1. The CLI, pinned.
vercel="$cli_dir/node_modules/.bin/vercel"
if [[ -x "$vercel" ]] && [[ "$(node -p "require('$cli_dir/node_modules/vercel/package.json').version" 2>/dev/null)" == "$VERCEL_VERSION" ]]; then
	log "vercel@$VERCEL_VERSION already in $cli_dir"
else
	log "installing vercel@$VERCEL_VERSION into $cli_dir"
	mkdir -p "$cli_dir"
	npm install --prefix "$cli_dir" --no-audit --no-fund --loglevel=error \
		--cache "$work/npm-cache" "vercel@$VERCEL_VERSION" >&2
fi

# 2. A copy of the tree: tracked files and new files that are not ignored.
src="$work/src"
mkdir -p "$src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$repo" && xargs -0 -r cp --parents -t "$src" 2>/dev/null || true)
[[ -f "$src/go.mod" && -f "$src/vercel.json" ]] || { log "copy of the tree is incomplete"; exit 1; }
# Drop what .vercelignore keeps from being uploaded, so the build sees what a
# real deployment would (a file the functions need but .vercelignore drops
# fails here, as it would on Vercel).
if [[ -f "$repo/.vercelignore" ]]; then
	(cd "$repo" && git ls-files -z -c -o -i --exclude-from=.vercelignore) |
		(cd "$src" && xargs -0 -r rm -f --)
	log "removed the files .vercelignore keeps out of a deployment"
fi

# Go keeps using the machine's module and build caches (offline-friendly);
# everything the CLI writes goes to the temporary folder.
GOMODCACHE="$(go env GOMODCACHE)"
GOCACHE="$(go env GOCACHE)"
export GOMODCACHE GOCACHE GOWORK=off GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
export HOME="$work/home" XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
export npm_config_cache="$work/npm-cache" VERCEL_TELEMETRY_DISABLED=1 NO_UPDATE_NOTIFIER=1 CI=1
export CGO_ENABLED=0
mkdir -p "$HOME"

# 3. Toolchain and bridge modules.
cd "$src"
go_version="$(go env GOVERSION)"
go mod edit -toolchain="$go_version"
log "toolchain pinned to $go_version"
go get "$GO_BRIDGE" "$LAMBDA_GO" >&2

# 4. A local project link: no account needed for `vercel build`.
mkdir -p .vercel
cat >.vercel/project.json <<'JSON'
{"projectId":"prj_sessiond_local_check","orgId":"team_sessiond_local_check","settings":{"framework":null,"createdAt":1700000000000}}
JSON

# 5. Build.
log "running vercel build (this takes a few minutes on 2 cores)"
start=$(date +%s)
if ! "$vercel" build --yes --standalone >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log" >&2
	log "vercel build failed"
	exit 1
fi
log "vercel build done in $(($(date +%s) - start))s"

# 6. Checks.
out=.vercel/output
fail=0
expected=()
while IFS= read -r -d '' f; do
	rel="${f#./}"
	# The builder skips tests and any path with a segment starting with _ or .
	case "/$rel" in */_* | */.*) continue ;; esac
	expected+=("${rel%.go}")
done < <(find ./api -name '*.go' ! -name '*_test.go' -print0 | sort -z)

if [[ ${#expected[@]} -eq 0 ]]; then
	log "no handler found under api/"
	exit 1
fi

for fn in "${expected[@]}"; do
	boot="$out/functions/$fn.func/bootstrap"
	if [[ ! -f "$boot" ]]; then
		log "MISSING $fn.func/bootstrap"
		fail=1
		continue
	fi
	if [[ "$(head -c 4 "$boot" | od -An -c | tr -d ' ')" != '177ELF' ]]; then
		log "NOT ELF $boot"
		fail=1
		continue
	fi
	log "ok $fn.func ($(du -h "$boot" | cut -f1))"
done

got=$(find "$out/functions" -type d -name '*.func' | wc -l)
if [[ "$got" -ne ${#expected[@]} ]]; then
	log "expected ${#expected[@]} functions, found $got:"
	find "$out/functions" -type d -name '*.func' >&2
	fail=1
fi

if ! node -e '
const c = require(process.argv[1]);
const crons = c.crons || [];
if (!crons.some(x => x.path === "/api/cron/cleanup" && x.schedule)) { console.error("cron /api/cron/cleanup missing"); process.exit(1); }
const routes = JSON.stringify(c.routes || []);
if (!routes.includes("well-known") || !routes.includes("/api/jwks")) { console.error("rewrite /.well-known/jwks.json -> /api/jwks missing"); process.exit(1); }
' "$PWD/$out/config.json"; then
	fail=1
else
	log "ok config.json: cron /api/cron/cleanup, rewrite /.well-known/jwks.json"
fi

leaked=$(find "$out/static" \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name '*.lua' \) 2>/dev/null | head -5)
if [[ -n "$leaked" ]]; then
	log "Go sources in the static output:"
	echo "$leaked" >&2
	fail=1
else
	log "ok static output holds no Go source"
fi

if [[ $fail -ne 0 ]]; then
	log "FAILED"
	exit 1
fi
log "all ${#expected[@]} functions built by vercel@$VERCEL_VERSION"
