#!/usr/bin/env bash
# The real WireGuard tunnel test (tests/e2e/wireguard.e2e.ts): installs what it needs, runs it, and FAILS if the
# test did not actually run (a skip here means the environment is broken, not that all is well).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != "0" ]; then
  echo "wireguard-e2e: must run as root (network namespaces, TUN devices)" >&2
  exit 1
fi

missing=()
command -v wireguard-go >/dev/null || missing+=(wireguard-go)
command -v wg >/dev/null || missing+=(wireguard-tools)
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "wireguard-e2e: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -c /dev/net/tun ]; then
  mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 666 /dev/net/tun
fi

# Whatever happens to the test process, leave no namespace, interface or process of ours behind.
sweep() {
  for ns in $(ip netns list 2>/dev/null | awk '/^mc-(srv|cli)-[0-9a-f]{6}/ {print $1}'); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    sleep 0.2
    ip netns del "$ns" 2>/dev/null || true
  done
}
report="$(mktemp)"
trap 'sweep; rm -f "$report"' EXIT
status=0
npx vitest run --config tests/e2e/vitest.e2e.config.ts --reporter=default --reporter=json --outputFile.json="$report" || status=$?

node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`wireguard-e2e: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
if (r.numPassedTests === 0 || skipped > 0) { console.error("wireguard-e2e: the tunnel test was skipped: FAIL"); process.exit(1); }
' "$report" || exit 1
exit "$status"
