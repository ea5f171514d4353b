#!/usr/bin/env bash
# services.sh up|down|env|status
#
# Brings up the RabbitMQ (with the management plugin) and PostgreSQL servers
# that the integration tests, the end-to-end tests and the demo need, on
# loopback only, and Prometheus's promtool for the tests of the alert rules.
# Servers already reachable at the configured URLs are reused; otherwise
# local ones are started: RabbitMQ from the Debian package (installed with
# apt when missing) and PostgreSQL as a throwaway cluster made with initdb in
# a state directory. promtool is taken from PATH, or extracted from the
# Debian prometheus package into the state directory (nothing is installed,
# no Prometheus server runs). Every wait polls with a deadline.
#
#   scripts/services.sh up            # idempotent
#   eval "$(scripts/services.sh env)" # AMQP_URL, RABBITMQ_MANAGEMENT_URL, DATABASE_URL, PROMTOOL
#   scripts/services.sh down          # stops only what this script started
#
# Settings (environment): AMQP_URL, RABBITMQ_MANAGEMENT_URL, DATABASE_URL to
# reuse existing servers; PROMTOOL for a promtool binary; SERVICES_DIR for the
# state directory (default ${TMPDIR:-/tmp}/fleetslope-services); PG_BIN for
# the PostgreSQL binaries.
set -euo pipefail

STATE=${SERVICES_DIR:-${TMPDIR:-/tmp}/fleetslope-services}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
DEFAULT_AMQP=amqp://guest:guest@127.0.0.1:5672/
DEFAULT_MGMT=http://127.0.0.1:15672

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.5 s until it
# succeeds or the deadline passes.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "$what not ready after ${secs}s"
    fi
    sleep 0.5
  done
}

amqp_url() { printf '%s' "${AMQP_URL:-$DEFAULT_AMQP}"; }
mgmt_url() { printf '%s' "${RABBITMQ_MANAGEMENT_URL:-$DEFAULT_MGMT}"; }

# The management credentials are the AMQP URL's (guest/guest by default).
mgmt_userinfo() {
  local u; u=$(amqp_url)
  u=${u#*://}
  if [[ $u == *@* ]]; then printf '%s' "${u%%@*}"; else printf 'guest:guest'; fi
}

mgmt_ok() {
  curl -fs --max-time 3 -u "$(mgmt_userinfo)" "$(mgmt_url)/api/overview" >/dev/null 2>&1
}

database_url() {
  if [[ -n ${DATABASE_URL:-} ]]; then printf '%s' "$DATABASE_URL"; return; fi
  if [[ -f $STATE/pg.port ]]; then
    printf 'postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable' "$(cat "$STATE/pg.port")"
  fi
}

pg_ok() {
  local url; url=$(database_url)
  [[ -n $url ]] && PGCONNECT_TIMEOUT=3 psql "$url" -qAtc 'select 1' >/dev/null
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# as_pg runs a command as the postgres user when we are root (initdb refuses
# to run as root), and as ourselves otherwise.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_rabbitmq() {
  command -v apt-get >/dev/null ||
    die "rabbitmq-server is not installed and apt-get is missing: install RabbitMQ 3.10+ or set AMQP_URL and RABBITMQ_MANAGEMENT_URL to a running server"
  [[ $(id -u) -eq 0 ]] ||
    die "rabbitmq-server is not installed: run 'sudo apt-get install -y rabbitmq-server' or set AMQP_URL and RABBITMQ_MANAGEMENT_URL"
  log "installing rabbitmq-server with apt"
  if ! apt-get install -y -q rabbitmq-server >"$STATE/apt.log" 2>&1; then
    apt-get update -q >>"$STATE/apt.log" 2>&1 || true
    apt-get install -y -q rabbitmq-server >>"$STATE/apt.log" 2>&1 ||
      die "apt-get install rabbitmq-server failed; see $STATE/apt.log"
  fi
}

rabbitmq_up() {
  if mgmt_ok; then log "rabbitmq: reusing $(mgmt_url)"; return; fi
  if [[ -n ${RABBITMQ_MANAGEMENT_URL:-} && $(mgmt_url) != "$DEFAULT_MGMT" ]]; then
    die "RABBITMQ_MANAGEMENT_URL=$(mgmt_url) is set but does not answer; unset it to start a local server"
  fi
  command -v rabbitmq-server >/dev/null || [[ -x /usr/sbin/rabbitmq-server ]] || install_rabbitmq
  export PATH=$PATH:/usr/sbin:/usr/lib/rabbitmq/bin
  rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    log "rabbitmq: starting a local server"
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 rabbitmq-server -detached >/dev/null 2>&1 ||
      die "rabbitmq-server -detached failed; see /var/log/rabbitmq"
    touch "$STATE/rabbitmq.started"
  fi
  wait_for "rabbitmq node" 90 rabbitmqctl -q status
  rabbitmqctl -q await_startup >/dev/null 2>&1 || die "rabbitmq did not finish booting"
  wait_for "rabbitmq management API at $(mgmt_url)" 60 mgmt_ok
  log "rabbitmq: ready at $(amqp_url | sed 's#//[^@]*@#//#')"
}

postgres_up() {
  if pg_ok; then log "postgres: reusing the server"; return; fi
  if [[ -n ${DATABASE_URL:-} ]]; then
    die "DATABASE_URL is set but the server does not answer; unset it to start a throwaway cluster"
  fi
  [[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] ||
    die "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin): apt-get install -y postgresql, or set PG_BIN or DATABASE_URL"
  local data=$STATE/pg
  if [[ ! -f $data/PG_VERSION ]]; then
    rm -rf "$data"
    mkdir -p "$data"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$data" "$STATE"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$STATE/initdb.log" 2>&1 ||
      die "initdb failed; see $STATE/initdb.log"
  fi
  local port=54329
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port" >"$STATE/pg.port"
  log "postgres: starting a throwaway cluster on 127.0.0.1:$port"
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || die "pg_ctl start failed; see $data/server.log"
  wait_for "postgres on port $port" 30 pg_ok
  log "postgres: ready"
}

promtool_path() {
  if [[ -n ${PROMTOOL:-} ]]; then
    printf '%s' "$PROMTOOL"
  elif command -v promtool >/dev/null; then
    command -v promtool
  elif [[ -x $STATE/prometheus/usr/bin/promtool ]]; then
    printf '%s' "$STATE/prometheus/usr/bin/promtool"
  fi
}

promtool_up() {
  local p; p=$(promtool_path)
  if [[ -n $p ]]; then
    "$p" --version >/dev/null 2>&1 || die "PROMTOOL=$p does not run"
    log "promtool: $p"
    return
  fi
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    die "promtool is missing and apt-get or dpkg-deb too: install Prometheus's promtool or set PROMTOOL"
  log "promtool: extracting it from the Debian prometheus package (no server is installed or started)"
  local dl=$STATE/deb
  rm -rf "$dl"
  mkdir -p "$dl"
  if ! (cd "$dl" && apt-get download -q prometheus >"$STATE/apt-promtool.log" 2>&1); then
    if [[ $(id -u) -eq 0 ]]; then apt-get update -q >>"$STATE/apt-promtool.log" 2>&1 || true; fi
    (cd "$dl" && apt-get download -q prometheus >>"$STATE/apt-promtool.log" 2>&1) ||
      die "apt-get download prometheus failed; see $STATE/apt-promtool.log (or set PROMTOOL)"
  fi
  dpkg-deb -x "$dl"/prometheus_*.deb "$STATE/prometheus" || die "dpkg-deb -x of the prometheus package failed"
  rm -rf "$dl"
  [[ -x $STATE/prometheus/usr/bin/promtool ]] || die "the prometheus package holds no usr/bin/promtool"
  log "promtool: $STATE/prometheus/usr/bin/promtool"
}

cmd_up() {
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  command -v curl >/dev/null || die "curl is required (apt-get install -y curl)"
  command -v psql >/dev/null || die "psql is required (apt-get install -y postgresql-client)"
  rabbitmq_up
  postgres_up
  promtool_up
}

cmd_env() {
  local db; db=$(database_url)
  [[ -n $db ]] || die "no PostgreSQL: run 'scripts/services.sh up' first"
  printf "export AMQP_URL='%s'\n" "$(amqp_url)"
  printf "export RABBITMQ_MANAGEMENT_URL='%s'\n" "$(mgmt_url)"
  printf "export DATABASE_URL='%s'\n" "$db"
  local p; p=$(promtool_path)
  if [[ -n $p ]]; then printf "export PROMTOOL='%s'\n" "$p"; fi
}

cmd_down() {
  if [[ -f $STATE/pg/postmaster.pid ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$STATE/pg" -m fast -w stop >/dev/null 2>&1 || true
    log "postgres: stopped"
  fi
  if [[ -f $STATE/rabbitmq.started ]]; then
    PATH=$PATH:/usr/sbin rabbitmqctl -q stop >/dev/null 2>&1 || true
    log "rabbitmq: stopped"
  fi
  rm -rf "$STATE"
}

cmd_status() {
  if mgmt_ok; then echo "rabbitmq: up ($(mgmt_url))"; else echo "rabbitmq: down"; fi
  if pg_ok; then echo "postgres: up"; else echo "postgres: down"; fi
  local p; p=$(promtool_path)
  echo "promtool: ${p:-missing}"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|env|status" >&2; exit 2 ;;
esac
