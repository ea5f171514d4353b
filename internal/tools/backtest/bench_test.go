package backtest

import (
	"context"
	"io"
	"math"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"

	"github.com/shoenig/test/must"
)

// nasaConfig is the reference run on the shared NASA trace.
func nasaConfig() Config {
	c := DefaultConfig()
	c.PolicyPath = "testdata/slope.hcl"
	c.Daily = 2_000_000
	c.Capacity = 100
	c.TimeZone = "America/New_York"
	return c
}

func loadNASA(tb testing.TB, days int) Trace {
	tb.Helper()
	tr, err := ReadTraceFile("../../../data/nasa-http-jul95.csv.gz")
	must.NoError(tb, err)
	if days == 0 {
		return tr
	}
	// Repeat the month until the trace covers days: the 87-day class of
	// history a user replays before going live.
	out := Trace{Start: tr.Start, Counts: make([]float64, 0, days*1440)}
	for len(out.Counts) < days*1440 {
		out.Counts = append(out.Counts, tr.Counts[:min(len(tr.Counts), days*1440-len(out.Counts))]...)
	}
	return out
}

func benchmarkRun(b *testing.B, days int, factory strategyFactory) {
	benchmarkPolicy(b, days, factory, nasaConfig().PolicyPath)
}

func benchmarkPolicy(b *testing.B, days int, factory strategyFactory, policy string) {
	tr := loadNASA(b, days)
	cfg := nasaConfig()
	cfg.PolicyPath = policy
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := run(context.Background(), cfg, tr, "nasa", factory)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Strategy(NameSlope).Evaluations), "evaluations")
	}
}

// BenchmarkRunNASAMonth replays the 27.6-day NASA trace through every
// strategy: the policy (strategy-slope in process, testdata/slope.hcl), the
// whole target-value grid with the official plugin, predictive, static-peak
// and oracle.
func BenchmarkRunNASAMonth(b *testing.B) { benchmarkRun(b, 0, newStrategy) }

// BenchmarkRun87Days replays 125,280 minutes.
func BenchmarkRun87Days(b *testing.B) { benchmarkRun(b, 87, newStrategy) }

// BenchmarkRunShippedPolicyNASAMonth is the reference run: the
// month at 2M requests/day with the production policy as it stands (its
// windows and checks change with tuning), all peers and the grid (goal:
// under 10 s on 2 cores).
func BenchmarkRunShippedPolicyNASAMonth(b *testing.B) {
	benchmarkPolicy(b, 0, newStrategy, shippedPolicy)
}

// BenchmarkRunShippedPolicy87Days is the same on 87 days (goal: under 30 s
// on 2 cores).
func BenchmarkRunShippedPolicy87Days(b *testing.B) {
	benchmarkPolicy(b, 87, newStrategy, shippedPolicy)
}

const shippedPolicy = "../../../policies/gpu-workers.hcl"

// The Peers benchmarks replace only the policy's strategy with a trivial
// one and keep the official target-value: what the peers (the grid and
// predictive) and the engine cost, whatever strategy-slope costs.
func BenchmarkPeersNASAMonth(b *testing.B) { benchmarkPolicy(b, 0, peersFactory, shippedPolicy) }

func BenchmarkPeers87Days(b *testing.B) { benchmarkPolicy(b, 87, peersFactory, shippedPolicy) }

func peersFactory(name string, log hclog.Logger, now func() time.Time) (strategy.Strategy, error) {
	if name == "target-value" {
		return newStrategy(name, log, now)
	}
	return proportionalFactory(name, log, now)
}

// The Engine benchmarks replace every strategy with a trivial one, to
// measure what the backtest itself costs around the strategies' Run.
func BenchmarkEngineNASAMonth(b *testing.B) { benchmarkRun(b, 0, proportionalFactory) }

func BenchmarkEngine87Days(b *testing.B) { benchmarkRun(b, 87, proportionalFactory) }

func proportionalFactory(string, hclog.Logger, func() time.Time) (strategy.Strategy, error) {
	return &fakeStrategy{quiet: true, decide: func(_ int, ms sdk.TimestampedMetrics, count int64) (int64, error) {
		if len(ms) < 2 {
			return count, nil // a backlog or per-worker check: no change
		}
		return int64(math.Ceil(ms[len(ms)-1].Value * 1.3 / 100)), nil
	}}, nil
}

// BenchmarkWriteOutputsNASAMonth measures summary, timeline and report.
func BenchmarkWriteOutputsNASAMonth(b *testing.B) {
	res, err := Run(context.Background(), nasaConfig(), loadNASA(b, 0), "nasa")
	must.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		if err := res.WriteSummary(io.Discard); err != nil {
			b.Fatal(err)
		}
		if err := res.WriteTimeline(io.Discard); err != nil {
			b.Fatal(err)
		}
		if err := res.WriteReport(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
