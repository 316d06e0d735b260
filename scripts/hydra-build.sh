#!/usr/bin/env bash
# hydra-build.sh - build Ory Hydra v2.3.0 into a throwaway folder outside the repo.
#
# Used by scripts/bench.sh for the side-by-side run of issue 7. Nothing it
# creates is ever committed: the module, the build cache it fills and the
# binary all live under $HYDRA_DIR (default /tmp/sessiond-hydra).
#
# `go install github.com/ory/hydra/v2@v2.3.0` refuses to build Hydra because its
# go.mod carries replace directives, so we make a throwaway module that depends
# on Hydra as a tool, repeat the one replace that matters (Ory's fork of pop),
# and build the main package from there. CGO is needed for the sqlite driver
# that backs DSN=memory.
#
# Idempotent: when $HYDRA_DIR/hydra exists and its build info (go version -m)
# names github.com/ory/hydra/v2 at $HYDRA_VERSION with the sqlite tag, it does
# nothing. (`hydra version` says "master" for a build from the module proxy.)
# Prints the path of the binary on its last line of stdout.
#
# Environment:
#   HYDRA_DIR      target folder (default /tmp/sessiond-hydra); must be outside the repo
#   HYDRA_VERSION  default v2.3.0 (the version the comparison is specified for)
#   HYDRA_NICE     niceness of the build (default 10; the machine is shared)
set -euo pipefail

HYDRA_DIR="${HYDRA_DIR:-/tmp/sessiond-hydra}"
HYDRA_VERSION="${HYDRA_VERSION:-v2.3.0}"
HYDRA_NICE="${HYDRA_NICE:-10}"
POP_REPLACE='github.com/gobuffalo/pop/v6=github.com/ory/pop/v6@v6.2.1-0.20241121111754-e5dfc0f3344b'

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
HYDRA_DIR="$(realpath -m "$HYDRA_DIR")"
case "$HYDRA_DIR/" in
"$repo_root"/*)
	echo "hydra-build: HYDRA_DIR ($HYDRA_DIR) is inside the repository; choose a folder outside it" >&2
	exit 2
	;;
esac
mkdir -p "$HYDRA_DIR"

bin="$HYDRA_DIR/hydra"
built_ok() {
	local info
	info="$(go version -m "$bin" 2>/dev/null)" || return 1
	grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/ory/hydra/v2[[:space:]]+$HYDRA_VERSION[[:space:]]" <<<"$info" &&
		grep -q -- "-tags=sqlite,sqlite_omit_load_extension" <<<"$info"
}
if [[ -x "$bin" ]] && built_ok; then
	echo "hydra-build: $bin already built" >&2
	echo "$bin"
	exit 0
fi

command -v go >/dev/null || { echo "hydra-build: go not found" >&2; exit 1; }
command -v gcc >/dev/null || command -v cc >/dev/null || {
	echo "hydra-build: a C compiler is needed (CGO, sqlite); apt-get install gcc" >&2
	exit 1
}

start=$(date +%s)
cd "$HYDRA_DIR"
# Never let an enclosing go.work or GOFLAGS=-mod=... steer the throwaway module.
export GOWORK=off GOFLAGS=-buildvcs=false
if [[ ! -f go.mod ]]; then
	go mod init sessiond-bench/hydra >&2
fi
echo "hydra-build: fetching github.com/ory/hydra/v2@$HYDRA_VERSION into $HYDRA_DIR" >&2
nice -n "$HYDRA_NICE" go get -tool "github.com/ory/hydra/v2@$HYDRA_VERSION" >&2
go mod edit -replace "$POP_REPLACE"
nice -n "$HYDRA_NICE" go mod tidy >&2
echo "hydra-build: compiling (CGO, sqlite; slow on 2 cores)" >&2
CGO_ENABLED=1 nice -n "$HYDRA_NICE" go build -tags sqlite,sqlite_omit_load_extension \
	-o "$bin.tmp" github.com/ory/hydra/v2
mv "$bin.tmp" "$bin"
echo "hydra-build: built $bin in $(($(date +%s) - start))s" >&2
echo "$bin"
