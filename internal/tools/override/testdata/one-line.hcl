# A hand-laid-out policy: one-line strategy blocks, not as nomad fmt writes it.
scaling "gpu-workers" {
  enabled = true
  min = 1
  max = 100
  policy {
    check "backlog" {
      source = "ekyc"
      query = "rabbitmq:ready:ekyc.*"
      strategy "slope" { capacity_per_worker = "100" }
    }
    check "rate" {
      source = "ekyc"
      query = "postgres:requests_per_minute"
        strategy "slope" {
      capacity_per_worker = "100"
      min_points = "5"
        }
    }
    target "gce-gpu" { node_class = "gpu-l4" }
  }
}
