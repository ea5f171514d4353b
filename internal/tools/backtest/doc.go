// Package backtest replays per-minute request counts (a trace file or the
// requests table) through a scaling policy exactly as the Nomad Autoscaler
// agent v0.5.0 would run it, against a model of target-gce-gpu and of the
// GPU worker queue, and scores the result like the SLA: p95 latency and
// availability during business hours, per local day, and cost.
//
// The pieces, in the order a replay uses them:
//
//   - trace.go, trace_postgres.go: the input, one count per minute.
//   - policy.go, config.go, checks.go: the policy file decoded as the agent
//     decodes it, and the replay's settings (lead, capacity, prices).
//   - agent.go: the agent's semantics (evaluation interval, cooldown,
//     min/max, the largest count of several checks, no strategy call while
//     Scale runs).
//   - fleet.go, pool.go: the target's model: workers booting for -lead,
//     scale-in draining only serving workers, Scale waiting for the MIGs,
//     billed versus serving hours, and the standby pool of stopped VMs.
//   - spot.go, spot_outage.go, spot_report.go: the Spot tier (spot_migs,
//     spot_share, spot_cooldown): the split of the count, preemptions and
//     the daily outage, the cost by tier.
//   - replay.go, metrics.go: the queue minute by minute and the SLA per day.
//   - strategies*.go, targetvalue.go, predictive.go, reference.go: the
//     compared autoscalers: the policy's own strategy (strategy-slope run in
//     process), the official target-value tuned over a grid, AWS-style
//     predictive scaling, a static fleet and the perfect-foresight oracle.
//   - run.go: Run, one replay per strategy on the same minutes.
//   - report.go, summary.go, table.go, timeline.go, output.go: the table,
//     summary.json, timeline.csv and the chart.
//   - shapes*.go: -shapes, the same replay once per VM shape.
//
// cmd/backtest is its command line; internal/tools/validate runs it over a
// fixed matrix of traces and volumes. What the model leaves out is in
// cmd/backtest/README.md.
package backtest
