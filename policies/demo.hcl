# The production policy (gpu-workers.hcl) compressed in time for `make demo`,
# which replays a day of traffic in under five minutes: one real second is
# five simulated minutes (compression 300). Every duration below is real
# time; the comment gives the simulated time it stands for.
#
# Two units change with the compression:
#  - The rate check counts requests per real second (five simulated
#    minutes) and divides by five, so its values stay requests per simulated
#    minute and capacity_per_worker stays 100, as in production.
#  - The load generator publishes one job per 25 requests so that RabbitMQ
#    keeps up on two cores. The backlog checks therefore count jobs, and their
#    capacity is in jobs per real minute: 100 requests/min x 300 / 25 = 1200.
#
# cmd/demo uses this file as written: its queues live in their own RabbitMQ
# vhost (ekyc-demo) and its requests table in its own database, and the
# addresses of the simulator go into the agent configuration, not here.

scaling "gpu-workers-demo" {
  enabled = true
  type    = "cluster"
  min     = 1
  max     = 150

  policy {
    # 10 simulated minutes. Not 1s: the agent gives the target's Status 75%
    # of the interval, and drops a policy whose first Status misses it,
    # which a busy machine can make happen at 750 ms.
    evaluation_interval = "2s"
    cooldown            = "1s"
    on_check_error      = "fail"

    check "request-rate" {
      source       = "ekyc"
      query        = "postgres:sql:SELECT s.t, coalesce(c.n, 0) / 5.0 FROM generate_series(date_trunc('second', $1::timestamptz), date_trunc('second', $2::timestamptz) - interval '1 second', interval '1 second') AS s(t) LEFT JOIN (SELECT date_trunc('second', created_at) AS t, count(*) AS n FROM api_requests WHERE created_at >= date_trunc('second', $1::timestamptz) AND created_at < date_trunc('second', $2::timestamptz) GROUP BY 1) AS c USING (t) ORDER BY 1"
      query_window = "15s" # 75 simulated minutes
      group        = "demand"

      strategy "slope" {
        capacity_per_worker = "100"
        mode                = "rate"
        # Production's lead and horizon; the evaluation interval here is
        # 10 simulated minutes, so a count stands for lead + 10 minutes.
        lead            = "1s"  # 5 simulated minutes
        horizon         = "3s"  # 15 simulated minutes
        trend_half_life = "6s"  # 30 simulated minutes
        noise_half_life = "12s" # 60 simulated minutes
        # A replayed day is 290 real seconds: the margin stays at its
        # default (3 units), and the seasonal views would need a whole
        # real day of history.
        seasonal = "false"
        # Nor does a 15 s window ever hold the two days after which the
        # startup headroom (twice the forecast) ends: the demo shows the
        # running strategy, not a new deployment's first days.
        startup_headroom = "0"
      }
    }

    # Production reads the backlog with the glob ekyc.*, which needs the
    # management API and its statistics lag by up to 5 s: 25 simulated
    # minutes here. The demo reads each queue by name over AMQP instead
    # (exact and immediate); the larger of the two votes wins, and the next
    # evaluation adds more if work is still waiting.
    check "backlog-facematch" {
      source       = "ekyc"
      query        = "rabbitmq:ready:ekyc.facematch@ekyc-demo"
      query_window = "1s"
      group        = "demand"

      strategy "slope" {
        capacity_per_worker = "1200" # jobs per real minute
        mode                = "backlog"
        backlog_tolerance   = "4"  # 100 requests
        drain_time          = "1s" # 5 simulated minutes
      }
    }

    check "backlog-ocr" {
      source       = "ekyc"
      query        = "rabbitmq:ready:ekyc.ocr@ekyc-demo"
      query_window = "1s"
      group        = "demand"

      strategy "slope" {
        capacity_per_worker = "1200"
        mode                = "backlog"
        backlog_tolerance   = "4"
        drain_time          = "1s"
      }
    }

    target "gce-gpu" {
      project             = "ekyc-demo"
      migs                = "us-central1-a/ekyc-gpu-a,us-central1-b/ekyc-gpu-b"
      node_class          = "gpu-l4"
      # Production's 5m drain deadline; the plugin's minimum. The agent
      # runs one Scale at a time, so a longer deadline would only hold back
      # the next scale-up (simulated drains take 90 simulated seconds).
      node_drain_deadline = "1s" # 5 simulated minutes
      stockout_cooldown   = "6s" # 30 simulated minutes
      scale_timeout       = "30s" # 150 simulated minutes: a bound, never reached
      # How often Scale re-reads the MIGs while instances boot (5 simulated
      # minutes). The plugin's 5s default is 25 simulated minutes here,
      # during which the agent evaluates nothing.
      poll_interval = "100ms" # 30 simulated seconds
      # A warm pool of four stopped VMs, two per zone: a worker started from
      # it serves after 90 simulated seconds instead of 5 minutes, and the
      # summary says how many came warm. The MIG stops the VMs it creates to
      # refill the pool at once (production waits for the image to pull).
      standby_size          = "4"
      standby_initial_delay = "0s"
      # A Spot tier: up to half the count on the Spot MIGs, the rest always
      # standard (production puts up to 80% on Spot; half here so that the
      # standard tier grows too and takes from its warm pool, which only
      # standard MIGs keep). The summary says how many worker-hours ran on
      # Spot.
      spot_migs     = "us-central1-a/ekyc-gpu-spot-a,us-central1-b/ekyc-gpu-spot-b"
      spot_share    = "0.5"
      spot_cooldown = "6s" # 30 simulated minutes
    }
  }
}
