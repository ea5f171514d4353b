# Local agent configuration: file policies only (the Nomad policy source is
# disabled), the plugins from bin/plugins, and the simulated cluster of
# cmd/simcloud (fake GCE compute API and fake Nomad API) plus the RabbitMQ
# and PostgreSQL of scripts/services.sh on loopback.
#
#   make build agent && scripts/services.sh up
#   go run ./cmd/simcloud -listen 127.0.0.1:8090 -project ekyc-prod -node-class gpu-l4 \
#     -migs us-central1-a/ekyc-gpu-a,us-central1-b/ekyc-gpu-b -initial-size 2 &
#   mkdir -p run/policies && cp policies/gpu-workers.hcl run/policies/
#   bin/nomad-autoscaler agent -config deploy/agent-local.hcl
#
# simcloud serves the compute API and the Nomad API on one address, hence the
# same port below. `make demo` starts from this file and replaces the
# addresses and the policy dir with those of the processes it started.

log_level  = "INFO"
log_json   = true
plugin_dir = "./bin/plugins"

http {
  bind_address = "127.0.0.1"
  bind_port    = 8080
}

# simcloud's Nomad API. The plugins inherit it as nomad_address.
nomad {
  address = "http://127.0.0.1:8090"
}

policy {
  dir                         = "./run/policies"
  default_cooldown            = "1m"
  default_evaluation_interval = "10s"

  # Without a Nomad server the Nomad policy source would fail, and the
  # policy manager would restart every 10 s and never scale.
  source "nomad" {
    enabled = false
  }
}

# Inline SQL (postgres:sql:) stays refused here too; `make demo` turns it
# on in the configuration it renders from this file, because the demo
# policy's rate check is an inline per-second query. requests_per_minute may
# filter only on the columns of scripts/schema.sql that identify traffic.
apm "ekyc" {
  driver = "apm-rabbitmq"
  config = {
    amqp_urls       = "amqp://guest:guest@127.0.0.1:5672/"
    management_urls = "http://127.0.0.1:15672"
    postgres_url    = "postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable"
    filter_columns  = "model,customer"
    query_timeout   = "2s"
  }
}

strategy "slope" {
  driver = "strategy-slope"
  config = {
    metrics_address = "127.0.0.1:9464"
  }
}

# simcloud's GCE compute API, without authentication.
target "gce-gpu" {
  driver = "target-gce-gpu"
  config = {
    compute_endpoint = "http://127.0.0.1:8090"
    compute_insecure = "true"
    metrics_address  = "127.0.0.1:9465"
  }
}
