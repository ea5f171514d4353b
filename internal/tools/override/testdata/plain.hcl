# A policy whose strategy blocks have no override keys, beside a check of
# another strategy, and a second policy in the same file.
scaling "gpu-workers" {
  enabled = true
  type    = "cluster"
  min     = 2
  max     = 50

  policy {
    evaluation_interval = "1m"
    cooldown            = "30s"

    check "request-rate" {
      source       = "ekyc"
      query        = "postgres:requests_per_minute"
      query_window = "15m"
      group        = "demand"

      strategy "slope" {
        capacity_per_worker = "100"
        min_points          = "5"
      }
    }

    check "backlog" {
      source       = "ekyc"
      query        = "rabbitmq:ready:ekyc.*"
      query_window = "1m"
      group        = "demand"

      strategy "slope" {
        capacity_per_worker   = "100"
        mode                  = "backlog"
        override_max_duration = "12h"
      }
    }

    target "gce-gpu" {
      node_class = "gpu-l4"
    }
  }
}

scaling "cpu-workers" {
  enabled = true
  min     = 1
  max     = 10

  policy {
    check "cpu" {
      source = "nomad-apm"
      query  = "avg_cpu"

      strategy "target-value" {
        target = "70"
      }
    }

    check "rate" {
      source = "ekyc"
      query  = "postgres:requests_per_minute"

      strategy "slope" {
        capacity_per_worker = "50"
      }
    }

    target "gce-gpu" {
      node_class = "cpu"
    }
  }
}
