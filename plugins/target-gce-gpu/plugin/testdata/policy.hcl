# The README's policy with a fixed-value check (no APM needed) and short
# intervals so that the test is fast.
scaling "gpu-workers" {
  enabled = true
  min     = 0
  max     = 16
  type    = "cluster"

  policy {
    cooldown            = "1s"
    evaluation_interval = "1s"

    check "fixed" {
      strategy "fixed-value" {
        value = 5
      }
    }

    target "gce-gpu" {
      project             = "test-project"
      migs                = "europe-west4-a/gpu-workers-a,europe-west4-b/gpu-workers-b"
      node_class          = "gpu-l4"
      node_drain_deadline = "15m"
      node_purge          = "true"
      stockout_cooldown   = "30m"
    }
  }
}
