# The SLI exporter (cmd/sli -listen): reads the API's requests table every
# minute and serves the SLA's burn rates and today's SLIs to Prometheus, for
# the fleetslope-slo alerts of deploy/prometheus-alerts.yml and the SLA row
# of the dashboard. One instance; point it at a replica if there is one.
#
#   nomad var put nomad/jobs/sli-exporter \
#     database_url='postgres://sli_reader:...@db.internal:5432/ekyc?sslmode=verify-full'
#   nomad job run -var binary_url=https://.../sli_<version>_linux_amd64 \
#     -var binary_sha256=<its line of SHA256SUMS> deploy/sli-exporter.nomad.hcl
#
# The database user needs SELECT on the requests table only (the exporter
# reads in READ ONLY transactions). `make dist` builds the binary for
# linux/amd64 and linux/arm64 and lists it in SHA256SUMS. deploy/README.md
# ("SLO burn-rate alerts") explains the alerts; deploy/sli_exporter_test.go
# holds this file to cmd/sli's flags, the shipped policy's business hours
# and the scrape configuration.

variable "binary_url" {
  type        = string
  description = "URL of sli_<version>_linux_<arch> from make dist (or any linux build of ./cmd/sli)."
}

variable "binary_sha256" {
  type        = string
  description = "SHA-256 of the file at binary_url."
}

variable "time_zone" {
  type        = string
  default     = "America/New_York"
  description = "IANA zone of the SLA's business hours: the traffic's, as the policy's timezone."
}

variable "business_hours" {
  type        = string
  default     = "08:00-22:00"
  description = "Daily window HH:MM-HH:MM of local time in which the SLA applies."
}

job "sli-exporter" {
  type = "service"

  group "sli" {
    # One reader is enough: a second would only read the same rows again.
    count = 1

    network {
      port "metrics" {}
    }

    # Registered like the agent's metrics services (deploy/README.md,
    # Prometheus): the scrape configuration keeps services tagged metrics.
    service {
      name     = "fleetslope-sli"
      port     = "metrics"
      provider = "nomad"
      tags     = ["metrics", "path=/metrics"]

      check {
        type     = "http"
        path     = "/metrics"
        interval = "30s"
        timeout  = "5s"
      }
    }

    # A database that is down is not a reason to exit (the exporter retries
    # every minute and FleetSlopeSLIStale says so); a bad flag or a port in
    # use is, and is retried slowly.
    restart {
      attempts = 3
      interval = "5m"
      delay    = "30s"
      mode     = "delay"
    }

    task "sli" {
      driver = "exec"

      artifact {
        source      = var.binary_url
        destination = "local/sli"
        mode        = "file"
        options {
          checksum = "sha256:${var.binary_sha256}"
        }
      }

      config {
        command = "local/sli"
        # The SLA of the problem statement: 99% of a day's business
        # requests answered, their p95 within 3 s.
        args = [
          "-listen", "${NOMAD_ADDR_metrics}",
          "-tz", "${var.time_zone}",
          "-business-hours", "${var.business_hours}",
          "-availability-slo", "99",
          "-latency-slo", "3s",
          "-requests-table", "api_requests",
          "-interval", "1m",
          "-settle", "5m",
        ]
      }

      # The DSN, password included, from the job's own Nomad Variable into
      # the environment ($DATABASE_URL): never on a command line, which
      # any user of the node can read.
      template {
        destination = "${NOMAD_SECRETS_DIR}/database.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/sli-exporter" }}DATABASE_URL={{ .database_url }}{{ end }}
        EOT
      }

      # It holds per-minute counts only: a restart reads today's window
      # again and loses nothing.
      kill_timeout = "5s"

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
