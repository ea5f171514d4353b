# Production agent configuration: the official nomad-autoscaler v0.5.0 agent
# with the three plugins of this repository, reading scaling policies from
# Nomad (jobs' scaling blocks) and from files, in HA mode.
#
#   nomad-autoscaler agent -config /etc/nomad-autoscaler/agent.hcl
#
# Copy the binaries of `make dist` into plugin_dir, keeping their names: the
# agent runs plugin_dir/<driver>. Policies refer to the labels of the apm,
# strategy and target blocks below ("ekyc", "slope", "gce-gpu"), not to the
# drivers. deploy/nomad-autoscaler.nomad.hcl runs this file as a Nomad
# service and renders the secrets marked REPLACE_ME from Nomad Variables.

log_level = "INFO"
# JSON logs keep the strategy's Meta (observed rate, slope, predicted peak,
# margin, workers) as fields: this is how operators audit every decision.
log_json   = true
plugin_dir = "/opt/nomad-autoscaler/plugins"

http {
  bind_address = "0.0.0.0"
  bind_port    = 8080
}

# The agent's Nomad connection. The agent merges these settings into every
# plugin's config (nomad_address, nomad_token, ...): target-gce-gpu drains
# nodes and strategy-slope reads override Variables with them.
nomad {
  address   = "https://nomad.service.consul:4646"
  region    = "global"
  namespace = "default"
  token     = "REPLACE_ME_NOMAD_TOKEN"
  ca_cert   = "/etc/nomad-autoscaler/tls/nomad-ca.pem"
}

policy {
  dir                         = "/etc/nomad-autoscaler/policies"
  default_cooldown            = "2m"
  default_evaluation_interval = "1m"
}

# Several agents may run; only the lock holder evaluates policies and runs
# the plugins. Our plugins keep no state in memory (the target stores its
# scale-in progress in GCE and Nomad), so a failover loses nothing.
high_availability {
  enabled        = true
  lock_namespace = "default"
  lock_path      = "nomad-autoscaler/lock"
  lock_ttl       = "60s"
  lock_delay     = "30s"
}

telemetry {
  prometheus_metrics = true
  disable_hostname   = true
}

# Queue backlog from RabbitMQ and request rates from PostgreSQL.
# Every key: plugins/apm-rabbitmq/README.md.
#
# Policies come from Nomad jobs here, so anyone who may submit a job writes
# the queries this block runs, as its database role. Inline SQL
# (postgres:sql:) therefore stays refused (allow_inline_sql defaults to
# false): SQL a policy needs goes below as a named query,
# "sql.<name>" = "SELECT ... $1 ... $2", run by postgres:named:<name>.
# requests_per_minute may filter only on the columns of scripts/schema.sql
# that identify traffic (model, customer).
apm "ekyc" {
  driver = "apm-rabbitmq"
  config = {
    amqp_urls            = "amqps://autoscaler:REPLACE_ME_AMQP_PASSWORD@rabbitmq-1.internal:5671/,amqps://autoscaler:REPLACE_ME_AMQP_PASSWORD@rabbitmq-2.internal:5671/,amqps://autoscaler:REPLACE_ME_AMQP_PASSWORD@rabbitmq-3.internal:5671/"
    management_urls      = "https://rabbitmq-1.internal:15671,https://rabbitmq-2.internal:15671,https://rabbitmq-3.internal:15671"
    tls_ca_file          = "/etc/nomad-autoscaler/tls/rabbitmq-ca.pem"
    postgres_url         = "postgres://autoscaler_ro:REPLACE_ME_PG_PASSWORD@ekyc-db.internal:5432/ekyc?sslmode=verify-full&sslrootcert=/etc/nomad-autoscaler/tls/pg-ca.pem"
    postgres_max_conns   = "4"
    requests_table       = "api_requests"
    requests_time_column = "created_at"
    filter_columns       = "model,customer"
    # A minute is counted once it ended 30 s ago: the API commits its rows
    # within a few seconds. Raise it if the DSN points at a read replica
    # that lags more.
    settle_delay  = "30s"
    query_timeout = "5s"
  }
}

# Demand forecast from the request-rate slope plus the backlog. The
# strategy's own settings live in each policy check.
strategy "slope" {
  driver = "strategy-slope"
  # Prometheus metrics of the decisions (forecast, margin, desired count,
  # reason class): deploy/grafana-dashboard.json charts them.
  config = {
    metrics_address = "0.0.0.0:9464"
  }
}

# Zonal GPU MIGs with drain-before-delete and stockout failover. Without
# `credentials` the plugin uses Application Default Credentials (the VM's
# service account); see plugins/target-gce-gpu/README.md for the IAM roles.
target "gce-gpu" {
  driver = "target-gce-gpu"
  # Prometheus metrics of the fleet (workers per MIG and state, stockouts,
  # Scale and drain durations, errors).
  config = {
    metrics_address = "0.0.0.0:9465"
  }
}
