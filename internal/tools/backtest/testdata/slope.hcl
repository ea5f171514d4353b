# The shape of the production policy (a rate check and a backlog check on
# strategy-slope in one group, evaluated every minute) for the benchmarks
# and the end-to-end tests, independent of later tuning of
# policies/gpu-workers.hcl.
scaling "gpu-workers" {
  enabled = true
  min     = 1
  max     = 400

  policy {
    evaluation_interval = "1m"
    cooldown            = "1m"

    check "request-rate" {
      source       = "ekyc"
      query        = "postgres:requests_per_minute"
      query_window = "60m"
      group        = "demand"

      strategy "slope" {
        capacity_per_worker = "100"
        mode                = "rate"
        floor               = "2"
        floor_hours         = "08:00-22:00"
        timezone            = "America/New_York"
      }
    }

    check "backlog" {
      source       = "ekyc"
      query        = "rabbitmq:ready:ekyc.*"
      query_window = "1m"
      group        = "demand"

      strategy "slope" {
        capacity_per_worker = "100"
        mode                = "backlog"
      }
    }
  }
}
