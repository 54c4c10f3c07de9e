#!/usr/bin/env bash
# The PostgreSQL failover job (issue 24): three etcd members, three Patroni nodes and HAProxy from deploy/ha/ on
# loopback, the API in front, a switchover, an etcd member killed, a leader kill under load and its rejoin
# (tests/integration/ha-failover.test.ts). Installs the
# engines it needs, runs the test with HA_TESTS=1, and FAILS if the test did not actually run (a skip here means
# the environment is broken, not that all is well). Prints the measured windows (RTO) and lost writes (RPO).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v patroni >/dev/null || missing+=(patroni)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "ha: missing ${missing[*]} and not root to install them" >&2
    exit 1
  fi
  echo "ha: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The Debian packages ship units for their own etcd and HAProxy; the job starts private ones on free ports and
# never uses (nor stops) a system service.

# Everything of this run lives under one directory; whatever happens to the test process, no process started
# from it survives the job (the test kills its own in afterAll; this is the net under it).
HA_TMPDIR=$(mktemp -d /tmp/massacorp-ha-job.XXXXXX)
chmod 755 "$HA_TMPDIR"
export HA_TMPDIR HA_LOG_DIR="$HA_TMPDIR/logs" HA_TESTS=1
report="$HA_TMPDIR/report.json"
# A process of this run names the run's directory on its command line (etcd, Patroni, postgres, HAProxy) or
# inherited HA_TMPDIR (the API process, Patroni): nothing else on the machine does.
sweep() {
  local pid
  for pid in $( (grep -l -s -F "$HA_TMPDIR" /proc/[0-9]*/cmdline; grep -l -s -F "HA_TMPDIR=$HA_TMPDIR" /proc/[0-9]*/environ) |
    cut -d/ -f3 | sort -u); do
    [ "$pid" = "$$" ] || kill -9 "$pid" 2>/dev/null || true
  done
}
cleanup() {
  sweep
  sleep 0.5
  sweep
  rm -rf "$HA_TMPDIR"
}
trap cleanup EXIT

status=0
timeout --kill-after=10 "${HA_JOB_TIMEOUT:-360}" npx vitest run tests/integration/ha-failover.test.ts \
  --reporter=default --reporter=json --outputFile.json="$report" || status=$?

if [ "$status" -ne 0 ] && [ -d "$HA_LOG_DIR" ]; then
  for f in "$HA_LOG_DIR"/*.log; do
    printf '\n--- %s (last 40 lines)\n' "$(basename "$f")"
    tail -n 40 "$f"
  done
fi

[ -f "$report" ] || { echo "ha: no test report (the run was killed or never started): FAIL"; exit 1; }
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`ha: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
if (r.numPassedTests === 0 || skipped > 0) { console.error("ha: the failover tests were skipped: FAIL"); process.exit(1); }
' "$report" || exit 1
exit "$status"
