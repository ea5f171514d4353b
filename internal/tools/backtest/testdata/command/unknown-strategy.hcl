# A policy on the threshold strategy, which the backtest does not run
# (a test of the error).
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

      strategy "threshold" {
        upper_bound = "1"
      }
    }
  }
}
