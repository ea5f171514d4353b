# The README's policy with a fixed-value check (no APM needed) and short
# intervals so that the test is fast. Not shorter than 3s: the agent gives
# Status 75% of the interval, and when the first Status misses that (a busy
# machine) it never creates the policy's handler.
scaling "gpu-workers" {
  enabled = true
  min     = 0
  max     = 16
  type    = "cluster"

  policy {
    cooldown            = "1s"
    evaluation_interval = "3s"

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
