#!/usr/bin/env bash
# Services the tests run against, each on 127.0.0.1 only:
#   s3rver 3.7.1 (the S3 REST API), installed from tests/services/package-lock.json with `npm ci`.
#   redis-server (the job queue broker), installed with apt-get when missing.
#
#   .ci/services.sh start    install what is missing, start the services, write their state
#   .ci/services.sh stop     stop them and remove their data
#   .ci/services.sh status   show what runs
#   .ci/services.sh env      print the environment the tests read (KEY=value lines)
#
# State lives in $AXL_SERVICES_DIR (default: .ci/.services in the repository, git-ignored):
#   services.env   AXL_TEST_S3_ENDPOINT=http://127.0.0.1:<port> (the tests read this file when the variable is unset)
#                  AXL_TEST_REDIS=127.0.0.1:<port>
#   s3rver.pid     s3rver.log     s3rver-data/     redis.pid     redis.log
# The ports are $AXL_S3_PORT (default 4568) and $AXL_REDIS_PORT (default 6390), or free ones when those are taken.
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
    if ! alive "$state/s3rver.pid"; then
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
  {
    echo "AXL_TEST_S3_ENDPOINT=http://127.0.0.1:$port"
    echo "AXL_TEST_S3_BUCKET=axl-test"
  } >"$state/services.env"
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
  rm -rf "$state/s3rver-data" "$state/services.env"
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
}

case "${1:-}" in
  start)
    mkdir -p "$state"
    ensure_node
    ensure_s3rver
    start_s3rver
    ensure_redis
    start_redis
    ;;
  stop)
    stop_redis
    stop_s3rver
    rm -f "$state/s3rver.log"
    rmdir "$state" 2>/dev/null || true
    ;;
  status)
    if alive "$state/s3rver.pid"; then log "s3rver runs (pid $(cat "$state/s3rver.pid")); $(cat "$state/services.env" 2>/dev/null | tr '\n' ' ')"
    else log "s3rver does not run"; fi
    if redis_alive; then log "redis runs (pid $(cat "$state/redis.pid"), port $(cat "$state/redis.port"))"; else log "redis does not run"; fi
    ;;
  env)
    [ -f "$state/services.env" ] && cat "$state/services.env"
    ;;
  *)
    echo "usage: .ci/services.sh start|stop|status|env" >&2
    exit 2
    ;;
esac
