# Two checks voting in one group, as the production policy does.
scaling "workers" {
  enabled = true
  min     = 2
  max     = 50

  policy {
    evaluation_interval  = "2m"
    cooldown             = "4m"
    cooldown_on_scale_up = "30s"

    check "rate" {
      source       = "ekyc"
      query        = "postgres:requests_per_minute:model=facematch"
      query_window = "90m"
      group        = "demand"

      strategy "target-value" {
        target = "80"
      }
    }

    check "backlog" {
      source       = "ekyc"
      query        = "rabbitmq:ready:ekyc.*"
      query_window = "instant"
      group        = "demand"
      on_error     = "ignore"

      strategy "slope" {
        capacity_per_worker = "100"
        mode                = "backlog"
      }
    }

    target "gce-gpu" {
      project = "p"
    }
  }
}
