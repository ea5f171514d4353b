# A policy whose check runs the official target-value strategy on the
# per-minute request rate: lets the backtest be exercised without
# strategy-slope.
scaling "tv-workers" {
  enabled = true
  min     = 1
  max     = 400

  policy {
    evaluation_interval = "1m"
    cooldown            = "2m"

    check "request-rate" {
      source       = "ekyc"
      query        = "postgres:requests_per_minute"
      query_window = "5m"

      strategy "target-value" {
        target = "7000"
      }
    }
  }
}
