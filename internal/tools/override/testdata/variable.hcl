# Both checks read the override from one Nomad Variable.
scaling "gpu-workers" {
  enabled = true
  min     = 1
  max     = 100

  policy {
    check "request-rate" {
      source = "ekyc"
      query  = "postgres:requests_per_minute"

      strategy "slope" {
        capacity_per_worker = "100"
        min_points          = "5"
        override_variable   = "nomad-autoscaler/overrides/gpu-workers"
      }
    }

    check "backlog" {
      source = "ekyc"
      query  = "rabbitmq:ready:ekyc.*"

      strategy "slope" {
        capacity_per_worker = "100"
        mode                = "backlog"
        override_variable   = "nomad-autoscaler/overrides/gpu-workers"
      }
    }

    target "gce-gpu" {
      node_class = "gpu-l4"
    }
  }
}
