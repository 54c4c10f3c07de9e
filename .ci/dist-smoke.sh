#!/usr/bin/env bash
# The built server (issue 20), after `npm run build`: dist/ runs on its own, the way the image and
# `npm run start:prod` run it, so a build that compiles but cannot run does not land.
#   1. `node dist/cli.js --help`, and `npx massacorp --help` (npm's own resolution of the package's bin);
#   2. `node dist/cli.js migrate` on a fresh embedded database: drizzle/ is found from dist/;
#   3. `node dist/main.js` on a free loopback port (embedded PGlite + memory store, the quick start's backends)
#      until /health answers; then /ready is 200 (the schema it expects is there), /admin/ is 200 (web/dist found
#      from dist/), the start-up block names the built CLI, and SIGTERM ends it with exit code 0.
# About 40 s on the 2-core CI machine under load (a fresh PGlite and its migrations are half of it). Exits
# non-zero on any failure; prints the server's output then.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'dist: %s\n' "$*"; }
fail() { say "FAIL: $*" >&2; exit 1; }
T0=$(date +%s.%N)

WORK=$(mktemp -d /tmp/massacorp-dist.XXXXXX)
PID=""
cleanup() {
  local rc=$?
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
  if [ "$rc" -ne 0 ] && [ -f "$WORK/server.log" ]; then
    say "the server's last lines:"
    tail -n 30 "$WORK/server.log" | sed 's/^/  | /'
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

[ -f dist/main.js ] && [ -f dist/cli.js ] || fail "dist/main.js or dist/cli.js is missing: npm run build first"
# The embedded backends, whatever this shell's environment says; a data directory of its own. The seed's argon2
# at the tests' cost: what is checked here is that the build runs, not the hash.
ENVS=(env -u DATABASE_URL -u REDIS_URL -u PGLITE_DIR -u NODE_OPTIONS DATA_DIR="$WORK/data" LOG_LEVEL=warn
  ARGON2_MEMORY_KIB=4096 ARGON2_TIME_COST=1)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }

t=$(date +%s.%N)
"${ENVS[@]}" node dist/cli.js --help >"$WORK/help" || fail "node dist/cli.js --help exited non-zero"
grep -q '^Usage: massacorp' "$WORK/help" || fail "node dist/cli.js --help: $(head -3 "$WORK/help")"
"${ENVS[@]}" npx --no-install massacorp --help >"$WORK/npx" 2>&1 || fail "npx massacorp --help: $(tail -3 "$WORK/npx")"
grep -q '^Usage: massacorp' "$WORK/npx" || fail "npx massacorp --help: $(tail -3 "$WORK/npx")"
say "node dist/cli.js --help, npx massacorp --help: ok ($(since "$t"))"
t=$(date +%s.%N)

"${ENVS[@]}" node dist/cli.js migrate >"$WORK/migrate" 2>&1 || fail "node dist/cli.js migrate: $(tail -5 "$WORK/migrate")"
grep -q '^applied: ' "$WORK/migrate" || fail "node dist/cli.js migrate applied nothing: $(tail -3 "$WORK/migrate")"
say "node dist/cli.js migrate: $(wc -w <"$WORK/migrate" | awk '{ print $1 - 1 }') migrations applied ($(since "$t"))"

PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
"${ENVS[@]}" HOST=127.0.0.1 PORT="$PORT" PUBLIC_URL="http://127.0.0.1:$PORT" node dist/main.js >"$WORK/server.log" 2>&1 &
PID=$!
t=$(date +%s.%N)
for _ in $(seq 1 120); do
  kill -0 "$PID" 2>/dev/null || fail "node dist/main.js exited at start-up"
  curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health" && break
  sleep 0.25
done
curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health" || fail "/health did not answer in 30 s"
say "node dist/main.js: /health 200 after $(since "$t")"
# Polled: on a loaded machine the first seconds after start-up can be shed (503, the event loop delay).
for _ in $(seq 1 60); do
  code=$(curl -s -o "$WORK/ready" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/ready" || true)
  [ "$code" = 200 ] && break
  sleep 0.5
done
[ "$code" = 200 ] || fail "/ready: $code $(cat "$WORK/ready")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/admin/")
[ "$code" = 200 ] || fail "/admin/: $code (web/dist not found from dist/?)"
grep -q 'Lost password: node dist/cli.js admin reset-password' "$WORK/server.log" ||
  fail "the start-up block does not name the built CLI"
say "/ready 200, /admin/ 200, the start-up block names node dist/cli.js"

kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=""
[ "$rc" = 0 ] || fail "node dist/main.js exited $rc on SIGTERM"
say "SIGTERM: exit 0; PASS in $(since "$T0")"
