# Only one check reads the Variable: it would pin half the policy.
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
        override_variable   = "nomad-autoscaler/overrides/gpu-workers"
      }
    }

    check "backlog" {
      source = "ekyc"
      query  = "rabbitmq:ready:ekyc.*"

      strategy "slope" {
        capacity_per_worker = "100"
        mode                = "backlog"
      }
    }

    target "gce-gpu" {
      node_class = "gpu-l4"
    }
  }
}
