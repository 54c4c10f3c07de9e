#!/usr/bin/env bash
# The API image, built and run by CI with podman (issue 24, item 9):
#   1. podman + debootstrap installed when missing (rootful, Debian's packages);
#   2. the base image made locally when it is not there yet (no image registry is reachable here): a minimal
#      Debian bookworm (debootstrap --variant=minbase, from this machine's Debian mirror) with this machine's
#      Node.js 20 and npm in /usr/local, a `node` user (uid 1000) and this machine's CA bundle and npm registry
#      settings, imported as localhost/node:20-bookworm-slim, the tag the Dockerfile's FROM names;
#   3. `podman build` of the Dockerfile (build stage: dist/ and web/dist; runtime stage: the built JavaScript on
#      the production dependencies) on that base;
#   4. in production mode (ENV=prod, PostgreSQL in a fresh database made for the run, Redis under a run-specific
#      key prefix, secrets generated for the run, a non-default PORT): the migrations as the k8s Job runs them
#      (`node dist/cli.js migrate`), the API until podman reports its HEALTHCHECK healthy, the readiness probe as the
#      k8s manifest sends it (/ready, from an address outside the WireGuard networks), a tenant and its admin made
#      with the image's CLI, and a sign-in (POST /api/v1/auth/login: 200 with an access token).
# Whatever happens, the containers, the database, the Redis keys, the app image, its build layers and the temp
# directory are removed (the base image stays: the next run on this machine skips step 2). Prints the timings;
# exits non-zero on any failure.
#
# Knobs: IMAGE_BASE (localhost/node:20-bookworm-slim), IMAGE_PORT (18443), CI_PG_URL_BASE
# (postgres://postgres@127.0.0.1:5432), IMAGE_REDIS_URL (redis://127.0.0.1:6379), IMAGE_HEALTHY_TIMEOUT (120 s).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${IMAGE_BASE:-localhost/node:20-bookworm-slim}
PORT=${IMAGE_PORT:-18443}
PGURL_BASE=${CI_PG_URL_BASE:-postgres://postgres@127.0.0.1:5432}
REDIS=${IMAGE_REDIS_URL:-redis://127.0.0.1:6379}
RUN_ID="$(date +%s)_$$"
DB="massacorp_image_$RUN_ID"
PREFIX="ci:image:$RUN_ID:"
IMAGE="localhost/massacorp-api:ci-$RUN_ID"
API="massacorp-image-api-$RUN_ID"
MIGRATE="massacorp-image-migrate-$RUN_ID"
# runc, not crun (podman's default): crun 1.8 refuses a cgroup v1 + v2 hybrid host such as this VM ("cgroups in
# hybrid mode not supported"). Explicit rlimits: podman's defaults (nofile 1048576) are above what this machine
# lets a process set, and the container would not start ("setrlimit RLIMIT_NOFILE: Operation not permitted").
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096)
WORK=$(mktemp -d /var/tmp/massacorp-image.XXXXXX)
chmod 700 "$WORK"

say() { printf 'image: %s\n' "$*"; }
now() { date +%s.%N; }
T_START=$(now)
declare -A T=()
ORDER=()
took() { T[$1]=$(awk -v a="$2" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'); ORDER+=("$1"); }

db_made=0
images_before=""
containers_before=""
cleanup() {
  local rc=$?
  set +e
  if [ "$rc" -ne 0 ] && podman container exists "$API" 2>/dev/null; then
    say "the API container's last log lines:"
    podman logs --tail 40 "$API" 2>&1 | sed 's/^/  | /'
  fi
  podman rm -f -t 0 "$API" "$MIGRATE" >/dev/null 2>&1
  # A build stopped midway (a timeout) leaves its buildah working containers: those this run made go too.
  if [ -n "$containers_before" ]; then
    local c
    for c in $(podman ps -a --external -q --no-trunc 2>/dev/null); do
      grep -qxF "$c" <<<"$containers_before" || podman rm -f "$c" >/dev/null 2>&1
    done
  fi
  # The app image and every image this run's build left (the console stage, intermediate layers): those that
  # did not exist before the build, never the base.
  if [ -n "$images_before" ]; then
    local base_id id
    base_id=$(podman image inspect --format '{{.Id}}' "$BASE" 2>/dev/null)
    podman rmi -f "$IMAGE" >/dev/null 2>&1
    for id in $(podman images -aq --no-trunc 2>/dev/null); do
      [ "$id" = "$base_id" ] && continue
      grep -qxF "$id" <<<"$images_before" || podman rmi -f "$id" >/dev/null 2>&1
    done
  fi
  if [ "$db_made" = 1 ]; then
    psql "$PGURL_BASE/postgres" -qc "drop database if exists $DB with (force)" >/dev/null 2>&1
  fi
  redis-cli -u "$REDIS" --scan --pattern "${PREFIX}*" 2>/dev/null | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1
  rm -rf "$WORK"
  took total "$T_START"
  printf '\nimage: timings (s)\n'
  local k
  for k in "${ORDER[@]}"; do printf '  %-22s %s\n' "$k" "${T[$k]}"; done
  if [ "$rc" -eq 0 ]; then say "PASS"; else say "FAIL (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
set -E
trap 'say "failed at line $LINENO: $BASH_COMMAND" >&2' ERR

fail() { say "FAIL: $*" >&2; exit 1; }

# 1. Engines -------------------------------------------------------------------------------------------------
t=$(now)
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v newuidmap >/dev/null || missing+=(uidmap)
command -v runc >/dev/null || missing+=(runc)
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "missing ${missing[*]} and not root to install them"
  say "installing ${missing[*]}"
  apt-get update -qq
  # podman's recommends bring crun, conmon, netavark, fuse-overlayfs, slirp4netns and catatonit.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
fi
podman --version
took install "$t"

# 2. The base image ------------------------------------------------------------------------------------------
# This machine's Debian mirror: the first deb822 stanza (or one-line entry) that serves bookworm.
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
          if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) ok = 1
        }
        if (ok && uri != "") { print uri; exit } }' "$f"
  done | head -1
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" { sub(/^deb +(\[[^]]*\] +)?/, ""); if ($2 == "bookworm") { print $1; exit } }'
}

make_base() {
  local mirror root node_version cafile registry
  mirror=$(debian_mirror 2>/dev/null | head -1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  root="$WORK/rootfs"
  say "making $BASE: debootstrap --variant=minbase bookworm from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 30 "$WORK/debootstrap.log"; fail "debootstrap failed"; }
  # Slim as the official -slim images: no docs, man pages or locales (copyright files stay), no apt caches.
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
  # This machine's Node.js 20, where the official image has it: /usr/local/bin/node and npm beside it.
  local node_bin npm_dir
  node_bin=$(readlink -f "$(command -v node)")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [ -f "$npm_dir/bin/npm-cli.js" ] || fail "npm not found beside $(command -v npm)"
  node_version=$(node --version)
  case "$node_version" in v20.*) ;; *) fail "this machine's node is $node_version, not 20" ;; esac
  install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # The `node` user of the official image.
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # This machine's CA bundle, and npm's registry settings (registry and cafile only: never a token) in npm's
  # global config of the base (/usr/local/etc/npmrc), so `npm ci` in the build reaches the registry the way
  # npm does on this machine.
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  echo "update-notifier=false" >"$root/usr/local/etc/npmrc"
  registry=$(npm config get registry)
  if [ "$registry" != "https://registry.npmjs.org/" ]; then
    case "$registry" in *@*) fail "npm's registry URL holds credentials: not copied into an image" ;; esac
    echo "registry=$registry" >>"$root/usr/local/etc/npmrc"
  fi
  cafile=$(npm config get cafile)
  if [ -n "$cafile" ] && [ "$cafile" != "null" ] && [ "$cafile" != "undefined" ]; then
    if [ "$(readlink -f "$cafile")" != "$(readlink -f /etc/ssl/certs/ca-certificates.crt)" ]; then
      install -m 0644 "$cafile" "$root/usr/local/etc/npm-ca.pem"
      cafile=/usr/local/etc/npm-ca.pem
    else
      cafile=/etc/ssl/certs/ca-certificates.crt
    fi
    echo "cafile=$cafile" >>"$root/usr/local/etc/npmrc"
  fi
  chroot "$root" /usr/local/bin/node --version >/dev/null || fail "node does not run in the base rootfs"
  chroot "$root" /usr/local/bin/npm --version >/dev/null || fail "npm does not run in the base rootfs"
  tar --numeric-owner -C "$root" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change 'CMD ["node"]' \
    --message "debootstrap minbase bookworm + this machine's node $node_version (.ci/image.sh)" \
    - "$BASE" >/dev/null
  rm -rf "$root"
}

t=$(now)
if podman image exists "$BASE"; then
  say "$BASE exists: reused"
else
  make_base
fi
"${PODMAN[@]}" run --rm "${LIMITS[@]}" --network none "$BASE" sh -c 'node --version && npm --version && id node' |
  sed 's/^/  base: /'
took base "$t"

# 3. The app image -------------------------------------------------------------------------------------------
images_before=$(podman images -aq --no-trunc)
containers_before=$(podman ps -a --external -q --no-trunc; echo none)
t=$(now)
say "podman build (BASE=$BASE)"
"${PODMAN[@]}" build "${LIMITS[@]}" --format docker --pull=never --network host --build-arg "BASE=$BASE" \
  -f Dockerfile -t "$IMAGE" . \
  >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log"; fail "podman build failed"; }
grep -i -E '^(WARN|time=.*level=(warning|error))' "$WORK/build.log" | sed 's/^/  build: /' || true
took build "$t"
size_mb=$(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f", $1 / 1048576 }')
base_mb=$(podman image inspect --format '{{.Size}}' "$BASE" | awk '{ printf "%.0f", $1 / 1048576 }')
say "image size ${size_mb} MiB (base ${base_mb} MiB)"
# The runtime stage holds the built JavaScript on the production dependencies only: no sources, no compiler, no
# tsx (a run-time import of a dev dependency would fail here, not in production).
"${PODMAN[@]}" run --rm "${LIMITS[@]}" --network none --no-healthcheck "$IMAGE" sh -c \
  'test -f dist/main.js && test -f dist/cli.js && test -d drizzle && test -f web/dist/index.html &&
   test ! -e src && test ! -e node_modules/tsx && test ! -e node_modules/typescript && test ! -e node_modules/vite' ||
  fail "the image does not hold dist/, drizzle/ and web/dist alone (or it carries src/ or dev dependencies)"

# 4. Run it in production mode -------------------------------------------------------------------------------
bash .ci/services.sh
psql "$PGURL_BASE/postgres" -v ON_ERROR_STOP=1 -qc "create database $DB" >/dev/null
db_made=1
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then fail "port $PORT is taken (set IMAGE_PORT)"; fi

# The environment docs/operations.md ("Production") requires, secrets made for this run, in a file (mode 0600)
# rather than on podman's command line. Host networking: 127.0.0.1 is this machine's PostgreSQL and Redis. The
# WireGuard guard stays on (ENV=prod); the CI runner's loopback address is its "admin network".
cat >"$WORK/env" <<EOF
ENV=prod
HOST=127.0.0.1
PORT=$PORT
PUBLIC_URL=http://127.0.0.1:$PORT
DATABASE_URL=$PGURL_BASE/$DB
REDIS_URL=$REDIS
STORE_PREFIX=$PREFIX
JWT_SECRET=$(openssl rand -base64 48 | tr -d '\n')
ENCRYPTION_KEY=$(openssl rand -hex 32)
METRICS_TOKEN=$(openssl rand -hex 32)
WG_EXTRA_ALLOWED_CIDRS=127.0.0.1/32
EOF
chmod 600 "$WORK/env"

t=$(now)
# The command deploy/k8s/migrate-job.yaml gives its container, read from the manifest (node dist/cli.js migrate).
mapfile -t JOB_CMD < <(node -e '
  const m = /command: (\[.*\])/.exec(require("fs").readFileSync("deploy/k8s/migrate-job.yaml", "utf8"));
  for (const a of JSON.parse(m[1])) console.log(a);')
[ "${#JOB_CMD[@]}" -gt 0 ] || fail "no command in deploy/k8s/migrate-job.yaml"
say "migrations: ${JOB_CMD[*]} (the k8s Job's command)"
"${PODMAN[@]}" run "${LIMITS[@]}" --no-healthcheck --name "$MIGRATE" --network host --env-file "$WORK/env" \
  "$IMAGE" "${JOB_CMD[@]}" 2>&1 |
  sed 's/^/  | /'
[ "$(podman inspect --format '{{.State.ExitCode}}' "$MIGRATE")" = 0 ] || fail "the migration exited non-zero"
podman rm "$MIGRATE" >/dev/null 2>>"$WORK/podman.log"
took migrate "$t"

# podman runs a HEALTHCHECK from a systemd timer; without systemd (this machine) that timer cannot be made
# ("unable to get systemd connection"), so it is turned off (--health-interval disable: the image's HEALTHCHECK
# command stays) and `podman healthcheck run` runs that command here until podman records the container
# healthy. (`--format docker` in the build: the OCI image format has no HEALTHCHECK, podman build drops it.)
t=$(now)
"${PODMAN[@]}" run "${LIMITS[@]}" -d --health-interval disable --name "$API" --network host --env-file "$WORK/env" \
  "$IMAGE" >/dev/null 2>>"$WORK/podman.log"
deadline=$(($(date +%s) + ${IMAGE_HEALTHY_TIMEOUT:-120}))
status=""
while :; do
  [ "$(podman inspect --format '{{.State.Running}}' "$API")" = true ] || fail "the API container stopped"
  "${PODMAN[@]}" healthcheck run "$API" >>"$WORK/podman.log" 2>&1 || true
  status=$(podman inspect --format '{{.State.Health.Status}}' "$API")
  [ "$status" = healthy ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then
    podman inspect --format '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{"\n"}}{{end}}' "$API" | tail -n 3
    fail "not healthy after ${IMAGE_HEALTHY_TIMEOUT:-120}s (status: ${status:-none: no HEALTHCHECK in the image?})"
  fi
  sleep 0.5
done
took start_to_healthy "$t"
say "podman reports $API $status"

# The probes as deploy/k8s/api.yaml declares them (httpGet /ready and /health on the container port), sent from
# an address outside WG_NETWORK and WG_EXTRA_ALLOWED_CIDRS like a kubelet's: they answer; any other route is 403.
probe() { curl -sS --max-time 5 --interface 127.0.0.2 -A kube-probe/1.30 -o "$WORK/probe" -w '%{http_code}' \
  "http://127.0.0.1:$PORT$1"; }
code=$(probe /ready)
[ "$code" = 200 ] || fail "readiness probe /ready: $code $(cat "$WORK/probe")"
say "readiness probe /ready (from 127.0.0.2): 200 $(cat "$WORK/probe")"
code=$(probe /health)
[ "$code" = 200 ] || fail "liveness probe /health: $code"
code=$(probe /api/v1/auth/login)
[ "$code" = 403 ] || fail "the WireGuard guard let 127.0.0.2 reach /api/v1/auth/login ($code): WG_ENFORCE is off?"

# A tenant and its admin through the image's CLI, then a sign-in.
t=$(now)
password="Ci-$(openssl rand -hex 12)-Zz9!"
email=admin@ci-image.test
MASSACORP_ADMIN_PASSWORD=$password "${PODMAN[@]}" exec -e MASSACORP_ADMIN_PASSWORD "$API" \
  node dist/cli.js tenant create --slug ci-image --name "CI image" --admin-email "$email" |
  sed 's/^/  | /'
printf '{"email":"%s","password":"%s"}' "$email" "$password" >"$WORK/login.json"
code=$(curl -sS --max-time 10 -o "$WORK/login.out" -w '%{http_code}' -H 'content-type: application/json' \
  -H 'x-tenant-id: ci-image' --data-binary "@$WORK/login.json" "http://127.0.0.1:$PORT/api/v1/auth/login")
[ "$code" = 200 ] || fail "POST /api/v1/auth/login: $code $(cat "$WORK/login.out")"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  if (typeof r.access_token !== "string" || r.access_token.split(".").length !== 3) {
    console.error("no access token in the login response");
    process.exit(1);
  }
' "$WORK/login.out" || fail "POST /api/v1/auth/login: 200 without an access token"
took signin "$t"
say "POST /api/v1/auth/login: 200 with an access token"
