# Runs the official nomad-autoscaler v0.5.0 agent with this repository's
# plugins as a Nomad service, two instances in HA mode (one holds the lock
# and evaluates; the other takes over 48 s to 156 s after it dies with the
# agent's 60s/30s lock: see deploy/README.md, High availability, for the
# measured failover and the agent v0.5.0 HA defects and their workarounds).
#
#   nomad var put nomad/jobs/nomad-autoscaler amqp_password=... pg_password=... \
#     pg_ca_pem=@pg-ca.pem
#   nomad acl policy apply -namespace default -job nomad-autoscaler \
#     nomad-autoscaler deploy/nomad-autoscaler.acl.hcl   # node write, variables
#   nomad job run -var plugins_sha256=<from SHA256SUMS> deploy/nomad-autoscaler.nomad.hcl
#
# Run it from the repository root: the scaling policy is read from
# policies/gpu-workers.hcl with file(). The plugins come from the release
# archive of `make dist`, verified by its SHA-256. The agent talks to Nomad
# through the task API socket with the job's workload identity, so no
# long-lived Nomad token is stored anywhere.

variable "plugins_version" {
  type        = string
  default     = "0.1.0"
  description = "Release of nomad-gpu-autoscaler whose plugin archive to run."
}

variable "plugins_url" {
  type        = string
  default     = "https://github.com/fleetslope/nomad-gpu-autoscaler/releases/download"
  description = "Base URL of the release archives (a mirror or an internal bucket works too)."
}

variable "plugins_sha256" {
  type        = string
  description = "SHA-256 of the archive for var.arch, from the release's SHA256SUMS."
}

variable "arch" {
  type        = string
  default     = "amd64"
  description = "CPU architecture of the clients that run the agent: amd64 or arm64."
}

variable "rabbitmq_hosts" {
  type    = list(string)
  default = ["rabbitmq-1.internal", "rabbitmq-2.internal", "rabbitmq-3.internal"]
}

variable "postgres_host" {
  type    = string
  default = "ekyc-db.internal"
}

job "nomad-autoscaler" {
  type = "service"

  group "autoscaler" {
    # HA: both run, only the lock holder evaluates policies and runs plugins.
    count = 2

    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }

    constraint {
      attribute = "${attr.cpu.arch}"
      value     = var.arch
    }

    # Never scale the fleet that runs the autoscaler.
    constraint {
      attribute = "${node.class}"
      operator  = "!="
      value     = "gpu-l4"
    }

    update {
      max_parallel     = 1
      min_healthy_time = "30s"
      healthy_deadline = "5m"
      auto_revert      = true
    }

    network {
      port "http" {
        to = 8080
      }
      # The plugins' Prometheus metrics (metrics_address in the agent
      # configuration below); the agent's own are on http at /v1/metrics.
      port "strategy_metrics" {
        to = 9464
      }
      port "target_metrics" {
        to = 9465
      }
    }

    service {
      name     = "nomad-autoscaler"
      port     = "http"
      provider = "nomad"

      check {
        type     = "http"
        path     = "/v1/health"
        interval = "10s"
        timeout  = "2s"
      }
    }

    # Scrape targets: Prometheus' Nomad service discovery finds these by
    # the "metrics" tag. The plugins run only in the agent holding the HA
    # lock, so only the leader's plugin endpoints answer; the standby's
    # fail their scrapes, which is how a dashboard tells the leader.
    service {
      name     = "nomad-autoscaler-agent-metrics"
      port     = "http"
      provider = "nomad"
      tags     = ["metrics", "path=/v1/metrics", "format=prometheus"]
    }

    service {
      name     = "nomad-autoscaler-strategy-slope"
      port     = "strategy_metrics"
      provider = "nomad"
      tags     = ["metrics", "path=/metrics"]
    }

    service {
      name     = "nomad-autoscaler-target-gce-gpu"
      port     = "target_metrics"
      provider = "nomad"
      tags     = ["metrics", "path=/metrics"]
    }

    task "agent" {
      driver = "docker"

      config {
        image   = "hashicorp/nomad-autoscaler:0.5.0"
        command = "nomad-autoscaler"
        args    = ["agent", "-config", "${NOMAD_TASK_DIR}/config/agent.hcl"]
        ports   = ["http", "strategy_metrics", "target_metrics"]
      }

      # A workload identity token in NOMAD_TOKEN: with the job's ACL policy
      # it may drain nodes, read and write the HA lock and override Variables.
      identity {
        env = true
      }

      artifact {
        source      = "${var.plugins_url}/v${var.plugins_version}/nomad-gpu-autoscaler-plugins_${var.plugins_version}_linux_${var.arch}.tar.gz"
        destination = "local/plugins"
        options {
          checksum = "sha256:${var.plugins_sha256}"
        }
      }

      # The policy is fixed when the job is submitted (file() reads it), so
      # a changed policy is a new job version, and Nomad replaces the
      # allocations because their templates changed: each new agent starts
      # with the new policy. Signalling the running agent would not do:
      # agent v0.5.0 keeps the first version it read of a file path and
      # policy name (see deploy/README.md).
      template {
        destination = "local/policies/gpu-workers.hcl"
        data        = file("policies/gpu-workers.hcl")
        change_mode = "restart"
      }

      # The CA that signed PostgreSQL's certificate: with sslmode=verify-full
      # the plugin checks the server's certificate and host name against it.
      template {
        destination = "secrets/pg-ca.pem"
        data        = "{{ with nomadVar \"nomad/jobs/nomad-autoscaler\" }}{{ .pg_ca_pem }}{{ end }}"
        change_mode = "restart"
      }

      # The agent configuration, with the passwords from the Nomad Variable
      # escaped for the userinfo of a URL, so that a password holding
      # @ : / ? # % or a space still gives a valid URL: urlquery escapes
      # every reserved character but writes a space as "+", which a URL's
      # userinfo reads as a plus, hence the replaceAll (a "+" of the
      # password itself is already "%2B"). The escaped form needs no
      # quoting in HCL either. deploy_test.go renders this template and
      # parses the URLs it gives.
      template {
        destination     = "local/config/agent.hcl"
        change_mode     = "restart"
        left_delimiter  = "[["
        right_delimiter = "]]"
        data            = <<-EOH
          log_level  = "INFO"
          log_json   = true
          plugin_dir = "/local/plugins"

          http {
            bind_address = "0.0.0.0"
            bind_port    = 8080
          }

          nomad {
            address   = "unix:///secrets/api.sock"
            namespace = "[[ env "NOMAD_NAMESPACE" ]]"
          }

          policy {
            dir                         = "/local/policies"
            default_cooldown            = "2m"
            default_evaluation_interval = "1m"
          }

          high_availability {
            enabled        = true
            lock_namespace = "[[ env "NOMAD_NAMESPACE" ]]"
            lock_path      = "nomad-autoscaler/lock"
            lock_ttl       = "60s"
            lock_delay     = "30s"
          }

          telemetry {
            prometheus_metrics = true
            disable_hostname   = true
          }

          apm "ekyc" {
            driver = "apm-rabbitmq"
            config = {
              amqp_urls       = "[[ with nomadVar "nomad/jobs/nomad-autoscaler" ]][[ $pw := .amqp_password | urlquery | replaceAll "+" "%20" ]]${join(",", formatlist("amqps://autoscaler:[[ $pw ]]@%s:5671/", var.rabbitmq_hosts))}[[ end ]]"
              management_urls = "${join(",", formatlist("https://%s:15671", var.rabbitmq_hosts))}"
              postgres_url    = "postgres://autoscaler_ro:[[ with nomadVar "nomad/jobs/nomad-autoscaler" ]][[ .pg_password | urlquery | replaceAll "+" "%20" ]][[ end ]]@${var.postgres_host}:5432/ekyc?sslmode=verify-full&sslrootcert=/secrets/pg-ca.pem"
              query_timeout   = "5s"
            }
          }

          strategy "slope" {
            driver = "strategy-slope"
            config = {
              metrics_address = "0.0.0.0:9464"
            }
          }

          target "gce-gpu" {
            driver = "target-gce-gpu"
            config = {
              metrics_address = "0.0.0.0:9465"
            }
          }
        EOH
      }

      resources {
        cpu    = 500
        memory = 512
      }
    }
  }
}
