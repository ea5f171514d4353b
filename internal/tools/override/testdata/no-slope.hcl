# No check uses strategy-slope: nothing reads an override.
scaling "web" {
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

    target "gce-gpu" {
      node_class = "web"
    }
  }
}
