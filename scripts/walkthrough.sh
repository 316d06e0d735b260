#!/usr/bin/env bash
# walkthrough.sh - the whole life of a session, with curl, against a running
# sessiond (or a deployment): create it with the admin key, introspect its
# access token, refresh it, list the user's sessions, revoke the refresh
# token, and see both tokens inactive. Every answer is checked; the script
# exits non-zero on the first unexpected one.
#
#   go run ./cmd/sessiond &          # with SESSION_ADMIN_KEY and SESSION_INTROSPECT_KEY set
#   SESSION_ADMIN_KEY=... SESSION_INTROSPECT_KEY=... scripts/walkthrough.sh
#
# Environment:
#   SESSIOND_URL            base URL (default http://127.0.0.1:3000)
#   SESSION_ADMIN_KEY       the server's admin key (required)
#   SESSION_INTROSPECT_KEY  the introspection key (default: the admin key, also accepted)
#   WALKTHROUGH_USER        user id of the session (default walkthrough-<random>)
#   QUIET=1                 print only failures and the last line
# Needs curl and either jq or python3 (to read JSON).
set -euo pipefail

base="${SESSIOND_URL:-http://127.0.0.1:3000}"
base="${base%/}"
admin="${SESSION_ADMIN_KEY:?set SESSION_ADMIN_KEY to the admin key of the server}"
introspect_key="${SESSION_INTROSPECT_KEY:-$admin}"
user="${WALKTHROUGH_USER:-walkthrough-$RANDOM$RANDOM}"

command -v curl >/dev/null || { echo "walkthrough: curl is required" >&2; exit 2; }

# json FIELD: read one top-level field of the JSON on stdin ("" when absent).
if command -v jq >/dev/null; then
	json() { jq -r --arg f "$1" 'if type == "object" and has($f) then (.[$f] | if type == "string" then . else tojson end) else "" end'; }
else
	command -v python3 >/dev/null || { echo "walkthrough: jq or python3 is required" >&2; exit 2; }
	json() {
		python3 -c 'import json,sys
v=json.load(sys.stdin).get(sys.argv[1], "")
print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))' "$1"
	}
fi

step=0
say() { [[ "${QUIET:-0}" == 1 ]] || echo "$@"; }
die() {
	echo "walkthrough: step $step: $*" >&2
	[[ -n "${body:-}" ]] && echo "  body: $body" >&2
	exit 1
}

# call METHOD PATH [curl args...]: sets $status and $body.
call() {
	local method="$1" path="$2"
	shift 2
	local out
	out="$(curl -sS -X "$method" "$base$path" -w '\n%{http_code}' "$@")" || die "curl could not reach $base$path"
	# The last line is the 3-digit status curl appended.
	status="${out:${#out}-3}"
	body="${out:0:${#out}-4}"
}

expect() { [[ "$status" == "$1" ]] || die "expected HTTP $1, got $status"; }

say "sessiond walk-through against $base (user $user)"

step=1
call GET /api/health
expect 200
[[ "$(json status <<<"$body")" == ok ]] || die "health status is not ok"
say "1. health: ok"

step=2
call POST /api/sessions -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
	-d "{\"user_id\":\"$user\",\"device\":{\"user_agent\":\"walkthrough\",\"platform\":\"cli\"},\"metadata\":{\"source\":\"walkthrough\"}}"
expect 201
sid="$(json session_id <<<"$body")"
at="$(json access_token <<<"$body")"
rt="$(json refresh_token <<<"$body")"
[[ -n "$sid" && -n "$at" ]] || die "create did not return session_id and access_token"
[[ "$(json token_type <<<"$body")" == Bearer ]] || die "token_type is not Bearer"
[[ -n "$rt" ]] || die "no refresh_token in the body (is SESSION_COOKIE_MODE=1? the walk-through uses body tokens)"
say "2. created session $sid"

step=3
call POST /api/introspect -H "Authorization: Bearer $introspect_key" --data-urlencode "token=$at"
expect 200
[[ "$(json active <<<"$body")" == true ]] || die "a fresh access token is not active"
[[ "$(json sid <<<"$body")" == "$sid" ]] || die "introspection names another session"
[[ "$(json sub <<<"$body")" == "$user" ]] || die "introspection names another user"
say "3. introspect: active, sub=$user"

step=4
call POST /api/refresh --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt"
expect 200
at2="$(json access_token <<<"$body")"
rt2="$(json refresh_token <<<"$body")"
[[ -n "$at2" && -n "$rt2" ]] || die "refresh did not return new tokens"
[[ "$rt2" != "$rt" ]] || die "the refresh token was not rotated"
[[ "$(json session_id <<<"$body")" == "$sid" ]] || die "refresh moved to another session"
say "4. refreshed: new access and refresh tokens"

step=5
call GET /api/sessions -H "Authorization: Bearer $at2"
expect 200
sessions="$(json sessions <<<"$body")"
[[ "$sessions" == *"\"$sid\""* ]] || die "the session is not in the user's list"
[[ "$sessions" == *'"current":true'* ]] || die "no session is marked current"
say "5. list: the session is there, marked current"

step=6
call POST /api/revoke --data-urlencode "token=$rt2" --data-urlencode token_type_hint=refresh_token
expect 200
say "6. revoked the refresh token (the session ends)"

step=7
call POST /api/introspect -H "Authorization: Bearer $introspect_key" --data-urlencode "token=$at2"
expect 200
[[ "$body" == '{"active":false}' ]] || die "the access token of a revoked session is still active"
call POST /api/introspect -H "Authorization: Bearer $introspect_key" --data-urlencode "token=$rt2"
expect 200
[[ "$body" == '{"active":false}' ]] || die "the revoked refresh token is still active"
say "7. introspect after revoke: {\"active\":false} for both tokens"

step=8
call POST /api/refresh --data-urlencode grant_type=refresh_token --data-urlencode "refresh_token=$rt2"
expect 400
[[ "$(json error <<<"$body")" == invalid_grant ]] || die "refresh after revoke is not invalid_grant"
say "8. refresh after revoke: invalid_grant"

echo "walkthrough: OK (8 steps)"
