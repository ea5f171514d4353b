#!/usr/bin/env bash
# soak-services.sh up|down|env|status|kill-rabbit N|start-rabbit N|restart-postgres
#
# The servers of `make soak`, apart from those of scripts/services.sh so that
# the soak can kill and restart them while other tests use theirs: a
# three-node RabbitMQ cluster (nodes soak1..soak3@<host>, each with its own
# node name, AMQP, management and distribution ports and data directory) and
# a PostgreSQL cluster of its own. Everything listens on loopback only; every
# wait polls with a deadline. RabbitMQ comes from the Debian package
# (installed with apt when missing, as scripts/services.sh does).
#
#   scripts/soak-services.sh up                # idempotent
#   eval "$(scripts/soak-services.sh env)"     # SOAK_AMQP_URLS, SOAK_MANAGEMENT_URLS, SOAK_DATABASE_URL, SOAK_SERVICES
#   scripts/soak-services.sh kill-rabbit 2     # SIGKILL node 2 (the soak's fault)
#   scripts/soak-services.sh start-rabbit 2    # start it again; it rejoins the cluster
#   scripts/soak-services.sh restart-postgres  # fast shutdown and start (the soak's fault)
#   scripts/soak-services.sh down              # stops what this script started, removes its state
#
# Settings (environment): SOAK_SERVICES_DIR for the state directory (default
# ${TMPDIR:-/tmp}/fleetslope-soak), SOAK_RABBIT_PORT_BASE (default 5701: node
# N listens for AMQP on BASE+N-1, management on 10000+BASE+N-1, distribution
# on 20000+BASE+N-1), SOAK_PG_PORT (default the first free from 54401), PG_BIN.
set -euo pipefail

STATE=${SOAK_SERVICES_DIR:-${TMPDIR:-/tmp}/fleetslope-soak}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
BASE=${SOAK_RABBIT_PORT_BASE:-5701}
HOST=$(hostname -s)
RABBIT_LIB=/usr/lib/rabbitmq/bin
NODES=(1 2 3)

log() { printf 'soak-services: %s\n' "$*" >&2; }
die() { printf 'soak-services: error: %s\n' "$*" >&2; exit 1; }

wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$what not ready after ${secs}s"
    sleep 0.5
  done
}

node_name() { printf 'soak%s@%s' "$1" "$HOST"; }
amqp_port() { printf '%s' $((BASE + $1 - 1)); }
mgmt_port() { printf '%s' $((10000 + BASE + $1 - 1)); }
dist_port() { printf '%s' $((20000 + BASE + $1 - 1)); }
node_dir() { printf '%s/rabbit%s' "$STATE" "$1"; }

# as_rabbit runs a RabbitMQ script as the rabbitmq user when we are root (the
# Debian package's files and Erlang cookie are that user's), keeping the
# environment that names the node.
as_rabbit() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq "$@"
  else
    "$@"
  fi
}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ctl() { local n=$1; shift; as_rabbit "$RABBIT_LIB/rabbitmqctl" -n "$(node_name "$n")" "$@"; }

# node_env prints the environment that makes rabbitmq-server run node N.
node_env() {
  local n=$1 d; d=$(node_dir "$n")
  printf '%s\n' \
    "RABBITMQ_NODENAME=$(node_name "$n")" \
    "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1" \
    "RABBITMQ_NODE_PORT=$(amqp_port "$n")" \
    "RABBITMQ_DIST_PORT=$(dist_port "$n")" \
    "RABBITMQ_MNESIA_BASE=$d/mnesia" \
    "RABBITMQ_LOG_BASE=$d/log" \
    "RABBITMQ_PID_FILE=$d/pid" \
    "RABBITMQ_CONFIG_FILE=$d/rabbitmq" \
    "RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins" \
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}" \
    "ERL_EPMD_ADDRESS=127.0.0.1"
}

write_node_config() {
  local n=$1 d; d=$(node_dir "$n")
  mkdir -p "$d/mnesia" "$d/log"
  cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$(amqp_port "$n")
management.tcp.ip = 127.0.0.1
management.tcp.port = $(mgmt_port "$n")
# The soak reads queue statistics once a second at most.
collect_statistics_interval = 2000
EOF
  echo '[rabbitmq_management].' >"$d/enabled_plugins"
  [[ $(id -u) -eq 0 ]] && chown -R rabbitmq: "$d"
  return 0
}

node_ok() { ctl "$1" -q await_startup --timeout 2; }

mgmt_ok() { curl -fs --max-time 3 -u guest:guest "http://127.0.0.1:$(mgmt_port "$1")/api/overview" >/dev/null; }

# launch_node starts node N's Erlang VM unless it runs already (booted or
# still booting); wait_node waits until it has booted. The nodes are all
# launched before any is waited for: a node that was clustered before (a
# state directory left by an earlier soak, a machine that rebooted) waits
# at boot for its peers' tables, so waiting for each in turn never ends.
launch_node() {
  local n=$1
  if ctl "$n" -q ping >/dev/null 2>&1; then return; fi
  write_node_config "$n"
  log "rabbitmq: starting $(node_name "$n") on 127.0.0.1:$(amqp_port "$n")"
  local vars=(); mapfile -t vars < <(node_env "$n")
  as_rabbit "${vars[@]}" "$RABBIT_LIB/rabbitmq-server" -detached >"$(node_dir "$n")/log/detached.out" 2>&1 ||
    die "rabbitmq-server -detached for $(node_name "$n") failed; see $(node_dir "$n")/log"
}

wait_node() {
  local n=$1
  wait_for "$(node_name "$n")" 90 ctl "$n" -q ping
  wait_for "$(node_name "$n") boot" 300 node_ok "$n"
}

clustered() { ctl 1 -q cluster_status --formatter json 2>/dev/null | grep -q "\"$(node_name "$1")\""; }

join_node() {
  local n=$1
  if ctl "$n" -q cluster_status --formatter json 2>/dev/null | grep -q "$(node_name 1)"; then return; fi
  log "rabbitmq: joining $(node_name "$n") to $(node_name 1)"
  ctl "$n" -q stop_app >/dev/null
  ctl "$n" -q join_cluster "$(node_name 1)" >/dev/null || die "join_cluster $(node_name "$n") failed"
  ctl "$n" -q start_app >/dev/null
  wait_for "$(node_name "$n") after joining" 90 node_ok "$n"
}

install_rabbitmq() {
  command -v apt-get >/dev/null || die "rabbitmq-server is not installed and apt-get is missing"
  [[ $(id -u) -eq 0 ]] || die "rabbitmq-server is not installed: run 'sudo apt-get install -y rabbitmq-server'"
  log "installing rabbitmq-server with apt"
  apt-get install -y -q rabbitmq-server >"$STATE/apt.log" 2>&1 ||
    { apt-get update -q >>"$STATE/apt.log" 2>&1 && apt-get install -y -q rabbitmq-server >>"$STATE/apt.log" 2>&1; } ||
    die "apt-get install rabbitmq-server failed; see $STATE/apt.log"
}

rabbitmq_up() {
  [[ -x $RABBIT_LIB/rabbitmq-server ]] || install_rabbitmq
  for n in "${NODES[@]}"; do launch_node "$n"; done
  for n in "${NODES[@]}"; do wait_node "$n"; done
  for n in 2 3; do join_node "$n"; done
  for n in "${NODES[@]}"; do wait_for "management API of $(node_name "$n")" 60 mgmt_ok "$n"; done
  log "rabbitmq: cluster of $(node_name 1), $(node_name 2), $(node_name 3) ready"
}

pg_url() { printf 'postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable' "$(cat "$STATE/pg.port")"; }
pg_ok() { [[ -f $STATE/pg.port ]] && PGCONNECT_TIMEOUT=3 psql "$(pg_url)" -qAtc 'select 1' >/dev/null; }
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_start() {
  as_pg "$PG_BIN/pg_ctl" -D "$STATE/pg" -l "$STATE/pg/server.log" -w -t 60 \
    -o "-p $(cat "$STATE/pg.port") -k $STATE/pg -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || die "pg_ctl start failed; see $STATE/pg/server.log"
  wait_for "soak postgres" 30 pg_ok
}

postgres_up() {
  if pg_ok; then return; fi
  [[ -x $PG_BIN/initdb ]] || die "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin): set PG_BIN"
  if [[ ! -f $STATE/pg/PG_VERSION ]]; then
    rm -rf "$STATE/pg"; mkdir -p "$STATE/pg"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$STATE/pg"
    as_pg "$PG_BIN/initdb" -D "$STATE/pg" -U postgres --auth=trust -E UTF8 >"$STATE/initdb.log" 2>&1 ||
      die "initdb failed; see $STATE/initdb.log"
  fi
  local port=${SOAK_PG_PORT:-54401}
  while ! port_free "$port"; do port=$((port + 1)); done
  echo "$port" >"$STATE/pg.port"
  log "postgres: starting the soak's cluster on 127.0.0.1:$port"
  pg_start
}

cmd_up() {
  mkdir -p "$STATE"; chmod 755 "$STATE"
  command -v curl >/dev/null || die "curl is required"
  command -v psql >/dev/null || die "psql is required (apt-get install -y postgresql-client)"
  rabbitmq_up
  postgres_up
}

cmd_env() {
  pg_ok || die "no soak PostgreSQL: run 'scripts/soak-services.sh up' first"
  local amqp=() mgmt=()
  for n in "${NODES[@]}"; do
    amqp+=("amqp://guest:guest@127.0.0.1:$(amqp_port "$n")/")
    mgmt+=("http://127.0.0.1:$(mgmt_port "$n")")
  done
  (IFS=,; printf "export SOAK_AMQP_URLS='%s'\n" "${amqp[*]}"; printf "export SOAK_MANAGEMENT_URLS='%s'\n" "${mgmt[*]}")
  printf "export SOAK_DATABASE_URL='%s'\n" "$(pg_url)"
  printf "export SOAK_SERVICES='%s'\n" "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
}

# kill_rabbit SIGKILLs node N's Erlang VM, as a crashed host would.
kill_rabbit() {
  local n=$1 pid
  pid=$(cat "$(node_dir "$n")/pid" 2>/dev/null) || die "node $n: no pid file; is it running?"
  kill -KILL "$pid" || die "node $n: kill $pid failed"
  log "rabbitmq: killed $(node_name "$n") (pid $pid)"
}

cmd_down() {
  if [[ -f $STATE/pg/postmaster.pid ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$STATE/pg" -m fast -w stop >/dev/null 2>&1 || true
    log "postgres: stopped"
  fi
  for n in "${NODES[@]}"; do
    if [[ -f $(node_dir "$n")/pid ]]; then
      ctl "$n" -q stop >/dev/null 2>&1 || kill -KILL "$(cat "$(node_dir "$n")/pid")" 2>/dev/null || true
      log "rabbitmq: stopped $(node_name "$n")"
    fi
  done
  rm -rf "$STATE"
}

cmd_status() {
  for n in "${NODES[@]}"; do
    if node_ok "$n" >/dev/null 2>&1; then echo "rabbitmq $(node_name "$n"): up"; else echo "rabbitmq $(node_name "$n"): down"; fi
  done
  if pg_ok; then echo "postgres: up"; else echo "postgres: down"; fi
}

node_arg() {
  [[ ${1:-} =~ ^[123]$ ]] || die "node ${1:-(none)}: want 1, 2 or 3"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  status) cmd_status ;;
  kill-rabbit) node_arg "${2:-}"; kill_rabbit "$2" ;;
  start-rabbit) node_arg "${2:-}"; launch_node "$2"; wait_node "$2"; wait_for "management API of $(node_name "$2")" 60 mgmt_ok "$2" ;;
  restart-postgres)
    as_pg "$PG_BIN/pg_ctl" -D "$STATE/pg" -m fast -w -t 60 stop >/dev/null || die "pg_ctl stop failed"
    pg_start
    log "postgres: restarted" ;;
  *) echo "usage: $0 up|down|env|status|kill-rabbit N|start-rabbit N|restart-postgres" >&2; exit 2 ;;
esac
