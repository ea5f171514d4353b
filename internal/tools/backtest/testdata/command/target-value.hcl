# A policy on the official target-value strategy, so the command's tests do
# not depend on the tuning of strategy-slope.
scaling "tv" {
  enabled = true
  min     = 1
  max     = 100

  policy {
    evaluation_interval = "1m"
    cooldown            = "2m"

    check "rate" {
      source       = "ekyc"
      query        = "postgres:requests_per_minute"
      query_window = "5m"

      strategy "target-value" {
        target = "500"
      }
    }
  }
}
