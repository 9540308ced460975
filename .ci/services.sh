#!/usr/bin/env bash
# Services the tests run against, each on 127.0.0.1 only:
#   s3rver 3.7.1 (the S3 REST API), installed from tests/services/package-lock.json with `npm ci`.
#   redis-server (the job queue broker), installed with apt-get when missing.
#   registry (Debian's docker-registry, the OCI distribution registry 2.8) for image pushes, apt-get when missing.
#   podman (Podman's Docker Engine API service on a unix socket, storage in the state dir) for image builds and
#     containers, apt-get when missing (podman runc uidmap fuse-overlayfs slirp4netns buildah skopeo).
#
#   .ci/services.sh start [SERVICE...]   install what is missing, start the services (all, or those named:
#                                        s3rver redis registry podman), write their state
#   .ci/services.sh stop [SERVICE...]    stop them and remove their data
#   .ci/services.sh status               show what runs
#   .ci/services.sh env                  print the environment the tests read (KEY=value lines)
#   .ci/services.sh tools                install the programs the picture tests drive when missing (root, apt-get):
#                                        Debian's chromium (headless: the run report and SVG as a person sees
#                                        them) and graphviz (`dot`, which must accept `axl graph --format dot`);
#                                        and Mermaid (npm ci --prefix tests/mermaid), which draws `axl graph`'s Mermaid;
#                                        and python3 with pip (python3-pip), which installs python steps' -Packages
#                                        (tests/Pester/Axl.Packages.Tests.ps1)
#
# State lives in $AXL_SERVICES_DIR (default: .ci/.services in the repository, git-ignored):
#   services.env   AXL_TEST_S3_ENDPOINT=http://127.0.0.1:<port> (the tests read this file when the variable is unset)
#                  AXL_TEST_REDIS=127.0.0.1:<port>
#                  AXL_TEST_REGISTRY=127.0.0.1:<port>
#                  AXL_TEST_DOCKER_HOST=unix://<state>/podman/podman.sock
#   s3rver.pid     s3rver.log     s3rver-data/     redis.pid     redis.log
#   registry/      config.yml registry.pid registry.port registry.log data/
#   podman/        containers.conf storage.conf registries.conf podman.sock podman.pid podman.log storage/ run/
# The ports are $AXL_S3_PORT (default 4568), $AXL_REDIS_PORT (default 6390) and $AXL_REGISTRY_PORT (default 5000),
# or free ones when those are taken. Podman's configuration is this script's own (CONTAINERS_CONF & co. point at it):
# runc with cgroupfs, host network, fixed ulimits (what works in an unprivileged CI container), vfs storage, and
# the registry above allowed over plain HTTP.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${AXL_SERVICES_DIR:-$root/.ci/.services}"
services="$root/tests/services"
s3rver_js="$services/node_modules/s3rver/bin/s3rver.js"

log() { echo "services: $*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pid file names a live s3rver (not a reused pid).
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && grep -q s3rver "/proc/$(cat "$1")/cmdline" 2>/dev/null; }

ensure_node() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "node/npm missing: installing Debian's nodejs and npm"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "services: node and npm are required for s3rver (install Node.js 18+), then run: .ci/services.sh start" >&2
    exit 1
  fi
}

# Headless Chromium, Graphviz and Mermaid for the picture tests (tests/Pester/Axl.Report.Tests.ps1, WorkflowPictureTests).
ensure_tools() {
  local missing=""
  command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
  command -v dot >/dev/null 2>&1 || missing="$missing graphviz"
  # pip for python command steps' -Packages (python3 -m pip install --no-index --find-links; Axl.Packages.Tests).
  python3 -m pip --version >/dev/null 2>&1 || missing="$missing python3-pip"
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "installing Debian's$missing"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      # shellcheck disable=SC2086 # one word per package
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
      echo "services: missing$missing and not root: install them (apt-get install -y$missing) for the picture tests" >&2
      return 1
    fi
  fi
  # Mermaid (mermaid.min.js, drawn in Chromium) from tests/mermaid/package-lock.json, when missing or changed.
  local mermaid="$root/tests/mermaid" lock_sum
  lock_sum="$(sha256sum "$mermaid/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$mermaid/node_modules/mermaid/dist/mermaid.min.js" ] || [ "$(cat "$mermaid/node_modules/.axl-lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
    ensure_node
    log "installing mermaid from tests/mermaid/package-lock.json (npm ci)"
    npm ci --prefix "$mermaid" --no-audit --no-fund --loglevel=error >/dev/null
    echo "$lock_sum" >"$mermaid/node_modules/.axl-lock.sha256"
  fi
  log "chromium, dot, mermaid and python3-pip are installed"
}

ensure_s3rver() {
  # Reinstall when the lock file changed since the last install (the same stamp tests/run checks, so neither
  # reinstalls under the other's running server).
  local lock_sum stamp="$services/node_modules/.axl-lock.sha256"
  lock_sum="$(sha256sum "$services/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$s3rver_js" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ]; then return; fi
  log "installing s3rver from tests/services/package-lock.json (npm ci)"
  npm ci --prefix "$services" --no-audit --no-fund --loglevel=error >/dev/null
  [ -f "$s3rver_js" ] || { echo "services: npm ci did not install s3rver ($s3rver_js missing)" >&2; exit 1; }
  echo "$lock_sum" >"$stamp"
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start_s3rver() {
  if alive "$state/s3rver.pid"; then
    log "s3rver already runs (pid $(cat "$state/s3rver.pid")); $(cat "$state/services.env")"
    return
  fi
  local port="${AXL_S3_PORT:-4568}"
  if port_open "$port"; then
    local wanted="$port"
    port="$(free_port)"
    log "port $wanted is taken; using $port"
  fi
  rm -rf "$state/s3rver-data"
  mkdir -p "$state/s3rver-data"
  node "$s3rver_js" -d "$state/s3rver-data" -a 127.0.0.1 -p "$port" --configure-bucket axl-test \
    >"$state/s3rver.log" 2>&1 </dev/null &
  echo $! >"$state/s3rver.pid"
  for _ in $(seq 1 100); do
    if port_open "$port"; then break; fi
    if ! kill -0 "$(cat "$state/s3rver.pid")" 2>/dev/null; then # not alive(): the cmdline is this script's until exec
      echo "services: s3rver exited at start; its log:" >&2
      cat "$state/s3rver.log" >&2
      rm -f "$state/s3rver.pid"
      exit 1
    fi
    sleep 0.2
  done
  if ! port_open "$port"; then
    echo "services: s3rver did not listen on 127.0.0.1:$port within 20 s; its log:" >&2
    cat "$state/s3rver.log" >&2
    stop_s3rver
    exit 1
  fi
  set_env AXL_TEST_S3_ENDPOINT "http://127.0.0.1:$port"
  set_env AXL_TEST_S3_BUCKET axl-test
  log "s3rver $(node -p "require('$services/node_modules/s3rver/package.json').version") on http://127.0.0.1:$port (pid $(cat "$state/s3rver.pid"), keys S3RVER/S3RVER, data $state/s3rver-data)"
}

stop_s3rver() {
  if [ -f "$state/s3rver.pid" ]; then
    local pid
    pid="$(cat "$state/s3rver.pid")"
    if alive "$state/s3rver.pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      log "s3rver stopped (pid $pid)"
    fi
    rm -f "$state/s3rver.pid"
  fi
  rm -rf "$state/s3rver-data"
  unset_env AXL_TEST_S3_ENDPOINT
  unset_env AXL_TEST_S3_BUCKET
}

# --- Redis (the job queue broker) ---

redis_alive() { [ -f "$state/redis.pid" ] && kill -0 "$(cat "$state/redis.pid")" 2>/dev/null && grep -q redis "/proc/$(cat "$state/redis.pid")/cmdline" 2>/dev/null; }

ensure_redis() {
  if command -v redis-server >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "redis-server missing: installing Debian's redis-server"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "services: redis-server is required for the job queue tests: apt-get install -y redis-server (or your platform's package), then run: .ci/services.sh start" >&2
    exit 1
  fi
}

start_redis() {
  if redis_alive; then
    log "redis already runs (pid $(cat "$state/redis.pid"))"
  else
    local port="${AXL_REDIS_PORT:-6390}"
    while port_open "$port"; do port=$((port + 1)); done
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
      --pidfile "$state/redis.pid" --logfile "$state/redis.log" --dir "$state"
    for _ in $(seq 1 100); do port_open "$port" && [ -s "$state/redis.pid" ] && break; sleep 0.1; done
    if ! port_open "$port"; then
      echo "services: redis-server did not listen on 127.0.0.1:$port; its log:" >&2
      cat "$state/redis.log" >&2 || true
      exit 1
    fi
    echo "$port" >"$state/redis.port"
    log "redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$port (pid $(cat "$state/redis.pid"))"
  fi
  touch "$state/services.env"
  sed -i '/^AXL_TEST_REDIS=/d' "$state/services.env"
  echo "AXL_TEST_REDIS=127.0.0.1:$(cat "$state/redis.port")" >>"$state/services.env"
}

stop_redis() {
  if redis_alive; then
    local pid
    pid="$(cat "$state/redis.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    log "redis stopped (pid $pid)"
  fi
  rm -f "$state/redis.pid" "$state/redis.port" "$state/redis.log"
  unset_env AXL_TEST_REDIS
}

# --- Shared helpers of the registry and podman ---

apt_install() {
  # apt_install WHAT PACKAGE...: installs Debian packages when root with apt-get, else says what to install.
  local what="$1"; shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "$what missing: installing Debian's $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "services: $what is required for the image tests: apt-get install -y $* (or your platform's packages), then run: .ci/services.sh start" >&2
    exit 1
  fi
}

set_env() {
  # set_env KEY VALUE: replaces KEY's line in services.env.
  touch "$state/services.env"
  sed -i "/^$1=/d" "$state/services.env"
  echo "$1=$2" >>"$state/services.env"
}

unset_env() { [ -f "$state/services.env" ] && sed -i "/^$1=/d" "$state/services.env"; return 0; }

# --- The OCI registry (docker-registry) ---

registry_alive() { [ -f "$state/registry/registry.pid" ] && kill -0 "$(cat "$state/registry/registry.pid")" 2>/dev/null && grep -q registry "/proc/$(cat "$state/registry/registry.pid")/cmdline" 2>/dev/null; }

ensure_registry() {
  if command -v docker-registry >/dev/null 2>&1; then return; fi
  apt_install docker-registry docker-registry
}

start_registry() {
  local dir="$state/registry"
  if registry_alive; then
    log "registry already runs (pid $(cat "$dir/registry.pid"), port $(cat "$dir/registry.port"))"
  else
    local port="${AXL_REGISTRY_PORT:-5000}"
    while port_open "$port"; do port=$((port + 1)); done
    mkdir -p "$dir/data"
    printf '%s\n' "version: 0.1" "log:" "  level: warn" "storage:" "  filesystem:" "    rootdirectory: $dir/data" \
      "  delete:" "    enabled: true" "http:" "  addr: 127.0.0.1:$port" >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
    echo $! >"$dir/registry.pid"
    # Wait on the pid, not registry_alive: right after the fork the child's cmdline is still this script's.
    for _ in $(seq 1 100); do port_open "$port" && break; kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null || break; sleep 0.1; done
    if ! port_open "$port"; then
      echo "services: docker-registry did not listen on 127.0.0.1:$port; its log:" >&2
      cat "$dir/registry.log" >&2 || true
      exit 1
    fi
    echo "$port" >"$dir/registry.port"
    log "registry (docker-registry $(dpkg-query -W -f='${Version}' docker-registry 2>/dev/null || echo '?')) on 127.0.0.1:$port (pid $(cat "$dir/registry.pid"), data $dir/data)"
  fi
  set_env AXL_TEST_REGISTRY "127.0.0.1:$(cat "$dir/registry.port")"
}

stop_registry() {
  local dir="$state/registry"
  if registry_alive; then
    local pid
    pid="$(cat "$dir/registry.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    log "registry stopped (pid $pid)"
  fi
  rm -rf "$dir"
  unset_env AXL_TEST_REGISTRY
}

# --- Podman's Docker Engine API service ---

podman_alive() { [ -f "$state/podman/podman.pid" ] && kill -0 "$(cat "$state/podman/podman.pid")" 2>/dev/null && grep -q podman "/proc/$(cat "$state/podman/podman.pid")/cmdline" 2>/dev/null; }

ensure_podman() {
  if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1; then return; fi
  apt_install "podman (with runc)" podman buildah runc uidmap fuse-overlayfs slirp4netns skopeo
}

# Podman's configuration, for the service and for every podman command of this script.
podman_env() {
  export CONTAINERS_CONF="$state/podman/containers.conf"
  export CONTAINERS_STORAGE_CONF="$state/podman/storage.conf"
  export CONTAINERS_REGISTRIES_CONF="$state/podman/registries.conf"
}

podman_answers() { podman --url "unix://$state/podman/podman.sock" version >/dev/null 2>&1; }

start_podman() {
  local dir="$state/podman"
  if podman_alive; then
    log "podman already runs (pid $(cat "$dir/podman.pid"))"
  else
    mkdir -p "$dir/storage" "$dir/run"
    podman_env
    # runc and cgroupfs (crun fails on a cgroups v1 hybrid host), the host's network, ulimits that need no
    # CAP_SYS_RESOURCE: what works in an unprivileged CI container.
    printf '%s\n' "[containers]" 'default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]' 'netns = "host"' \
      "[engine]" 'runtime = "runc"' 'cgroup_manager = "cgroupfs"' 'events_logger = "file"' >"$dir/containers.conf"
    printf '%s\n' "[storage]" 'driver = "vfs"' "graphroot = \"$dir/storage\"" "runroot = \"$dir/run\"" >"$dir/storage.conf"
    # Plain HTTP to the registry service (started first when both are asked for) and to localhost:5000.
    local registry_port
    registry_port="$(cat "$state/registry/registry.port" 2>/dev/null || echo 5000)"
    printf '%s\n' "unqualified-search-registries = []" \
      "[[registry]]" "location = \"127.0.0.1:$registry_port\"" "insecure = true" \
      "[[registry]]" "location = \"localhost:$registry_port\"" "insecure = true" >"$dir/registries.conf"
    rm -f "$dir/podman.sock"
    podman system service --time=0 "unix://$dir/podman.sock" >"$dir/podman.log" 2>&1 </dev/null &
    echo $! >"$dir/podman.pid"
    for _ in $(seq 1 100); do
      [ -S "$dir/podman.sock" ] && podman_answers && break
      kill -0 "$(cat "$dir/podman.pid")" 2>/dev/null || break # not podman_alive: the cmdline is this script's until exec
      sleep 0.2
    done
    if ! podman_answers; then
      echo "services: podman's API service did not answer on $dir/podman.sock; its log:" >&2
      cat "$dir/podman.log" >&2 || true
      stop_podman
      exit 1
    fi
    log "podman $(podman --version | awk '{print $3}') Docker API on unix://$dir/podman.sock (pid $(cat "$dir/podman.pid"), storage $dir/storage)"
  fi
  set_env AXL_TEST_DOCKER_HOST "unix://$dir/podman.sock"
}

stop_podman() {
  local dir="$state/podman"
  [ -d "$dir" ] || { unset_env AXL_TEST_DOCKER_HOST; return 0; }
  podman_env
  if podman_alive; then
    podman --url "unix://$dir/podman.sock" rm --all --force >/dev/null 2>&1 || true
    local pid
    pid="$(cat "$dir/podman.pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    log "podman stopped (pid $pid)"
  fi
  # Mounts of containers (shm) under the state dir go before the files.
  { grep -o " $dir/[^ ]*" /proc/mounts 2>/dev/null || true; } | sort -r | while read -r m; do umount "$m" 2>/dev/null || true; done
  rm -rf "$dir"
  unset_env AXL_TEST_DOCKER_HOST
}

# The services a start or stop acts on: those named after the command, else all (in this order).
all_services="s3rver redis registry podman"
command="${1:-}"
[ "$#" -gt 0 ] && shift
selected="$all_services"
if [ "$#" -gt 0 ]; then
  for s in "$@"; do
    case " $all_services " in *" $s "*) ;; *) echo "services: unknown service '$s' (known: $all_services)" >&2; exit 2 ;; esac
  done
  selected="$*"
fi
wants() { case " $selected " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

case "$command" in
  start)
    mkdir -p "$state"
    if wants s3rver; then
      ensure_node
      ensure_s3rver
      start_s3rver
    fi
    if wants redis; then
      ensure_redis
      start_redis
    fi
    if wants registry; then
      ensure_registry
      start_registry
    fi
    if wants podman; then
      ensure_podman
      start_podman
    fi
    ;;
  stop)
    if wants podman; then stop_podman; fi
    if wants registry; then stop_registry; fi
    if wants redis; then stop_redis; fi
    if wants s3rver; then
      stop_s3rver
      rm -f "$state/s3rver.log"
    fi
    # services.env goes with the last service.
    if [ -f "$state/services.env" ] && [ ! -s "$state/services.env" ]; then rm -f "$state/services.env"; fi
    rmdir "$state" 2>/dev/null || true
    ;;
  status)
    if alive "$state/s3rver.pid"; then log "s3rver runs (pid $(cat "$state/s3rver.pid")); $(cat "$state/services.env" 2>/dev/null | tr '\n' ' ')"
    else log "s3rver does not run"; fi
    if redis_alive; then log "redis runs (pid $(cat "$state/redis.pid"), port $(cat "$state/redis.port"))"; else log "redis does not run"; fi
    if registry_alive; then log "registry runs (pid $(cat "$state/registry/registry.pid"), port $(cat "$state/registry/registry.port"))"; else log "registry does not run"; fi
    if podman_alive; then log "podman runs (pid $(cat "$state/podman/podman.pid"), unix://$state/podman/podman.sock)"; else log "podman does not run"; fi
    ;;
  env)
    [ -f "$state/services.env" ] && cat "$state/services.env"
    ;;
  tools)
    ensure_tools
    ;;
  *)
    echo "usage: .ci/services.sh start|stop [s3rver redis registry podman] | status | env | tools" >&2
    exit 2
    ;;
esac
