package backtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// dailyWave is days of traffic peaking at midday UTC, with a deterministic
// minute-to-minute wobble.
func dailyWave(days int) Trace {
	tr := Trace{Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Counts: make([]float64, days*1440)}
	for i := range tr.Counts {
		phase := 2 * math.Pi * float64(i%1440) / 1440
		tr.Counts[i] = 1000 + 800*math.Sin(phase-math.Pi/2) + float64((i*37)%50)
	}
	return tr
}

func testConfig() Config {
	c := DefaultConfig()
	c.PolicyPath = "testdata/target-value.hcl"
	c.Capacity = 100
	return c
}

func TestRunComparesAllStrategiesOnOneModel(t *testing.T) {
	t.Parallel()
	res, err := Run(context.Background(), testConfig(), dailyWave(2), "wave")
	must.NoError(t, err)
	must.Eq(t, 60, res.WarmupMinutes)
	must.Eq(t, 2*1440-60, len(res.Arrivals))
	must.Eq(t, int64(19), res.StaticPeakWorkers) // ceil((1000+800+49)/100)
	names := make([]string, 0, 4)
	for _, s := range res.Strategies {
		names = append(names, s.Name)
		must.Eq(t, len(res.Arrivals), len(s.Workers))
	}
	must.Eq(t, StrategyNames, names)
	static, orc := res.Strategy(NameStaticPeak), res.Strategy(NameOracle)
	must.Eq(t, 100.0, static.AvailabilityPct)
	must.Eq(t, 2, static.Days)
	must.Eq(t, 2, static.DaysMet)
	must.Eq(t, 19*float64(len(res.Arrivals))/60, static.WorkerHours)
	must.Eq(t, 1.0, res.RatioToOracle(NameOracle))
	must.Eq(t, orc.Days, orc.DaysMet)
	must.Less(t, orc.WorkerHours, res.PhysicalLimitWorkerHours+1e-9)
	must.Positive(t, res.Strategy(NameSlope).Evaluations)
}

func TestRunRejectsAnUnknownStrategyByName(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.PolicyPath = writePolicy(t, `scaling "w" {
  enabled = true
  max = 5
  policy {
    check "c" {
      source = "ekyc"
      query  = "postgres:requests_per_minute"
      strategy "threshold" { upper_bound = "1" }
    }
  }
}`)
	_, err := Run(context.Background(), c, dailyWave(1), "wave")
	must.ErrorContains(t, err, `strategy "threshold": the backtest runs "slope" (strategy-slope) and "target-value"`)
}

func TestRunReportsEveryBadParameterAtOnce(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.Lead = -time.Minute
	c.TimeZone = "Mars/Olympus"
	c.BusinessHours = "9-5"
	c.SLAP95 = 0
	_, err := Run(context.Background(), c, dailyWave(1), "wave")
	for _, want := range []string{`-lead "-1m0s"`, `-tz "Mars/Olympus"`, `-business-hours "9-5"`, `-sla-p95 "0s"`} {
		must.ErrorContains(t, err, want)
	}
}

func TestRunRefusesAMinuteThatNeedsAnAbsurdFleet(t *testing.T) {
	t.Parallel()
	tr := dailyWave(1)
	tr.Counts[200] = 1e300
	_, err := Run(context.Background(), testConfig(), tr, "typo")
	must.ErrorContains(t, err, "minute 2026-01-05T03:20:00Z has 1e+300 requests")
	must.ErrorContains(t, err, "check the trace, -daily and -capacity")

	c := testConfig()
	c.Daily = 1e20
	_, err = Run(context.Background(), c, dailyWave(1), "wave")
	must.ErrorContains(t, err, "workers at capacity 100: more than the 1e+09 the model handles")
}

func TestRunNeedsACapacity(t *testing.T) {
	t.Parallel()
	c := testConfig()
	c.Capacity = 0
	_, err := Run(context.Background(), c, dailyWave(1), "wave")
	must.ErrorContains(t, err, "no -capacity and no check with capacity_per_worker")
}

func TestRunRejectsATraceShorterThanTheWarmUp(t *testing.T) {
	t.Parallel()
	tr := dailyWave(1)
	tr.Counts = tr.Counts[:60]
	_, err := Run(context.Background(), testConfig(), tr, "short")
	must.ErrorContains(t, err, "too short")
}

func TestWriteOutputsWritesTheThreeFiles(t *testing.T) {
	t.Parallel()
	res, err := Run(context.Background(), testConfig(), dailyWave(2), "wave")
	must.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "out")
	must.NoError(t, res.WriteOutputs(dir))
	entries, err := os.ReadDir(dir)
	must.NoError(t, err)
	must.SliceLen(t, 3, entries, must.Sprint("the three outputs and no temporary file"))
	for _, e := range entries {
		info, err := e.Info()
		must.NoError(t, err)
		must.Eq(t, os.FileMode(0o644), info.Mode().Perm(), must.Sprint(e.Name()))
	}

	var summary map[string]any
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	must.NoError(t, err)
	must.NoError(t, json.Unmarshal(b, &summary))
	must.MapContainsKeys(t, summary, []string{"trace", "parameters", "physical_limit_worker_hours", "strategies"})
	strategies := summary["strategies"].(map[string]any)
	must.MapContainsKeys(t, strategies, []string{"slope", "target-value", "predictive", "static-peak", "oracle"})
	for _, name := range StrategyNames {
		must.MapContainsKeys(t, strategies[name].(map[string]any), []string{"worker_hours", "billed_worker_hours", "cost",
			"ratio_to_oracle", "ratio_to_physical_limit", "sla_days_met", "days", "availability_pct", "worst_day_p95_s",
			"scale_ups", "scale_downs", "booting_worker_hours", "draining_worker_hours", "per_day"}, must.Sprint(name))
	}
	for _, name := range []string{NameTargetValue, NamePredictive} {
		must.MapContainsKeys(t, strategies[name].(map[string]any), []string{"config", "evaluations"}, must.Sprint(name))
	}
	// per_day keeps its fields and adds the day's availability.
	for _, d := range strategies[NameSlope].(map[string]any)["per_day"].([]any) {
		must.MapContainsKeys(t, d.(map[string]any), []string{"date", "p95_s", "met", "availability_pct", "business_minutes"})
	}
	grid := summary["target_value_grid"].([]any)
	must.Len(t, len(targetValueGrid()), grid)
	selected := 0
	for _, g := range grid {
		e := g.(map[string]any)
		must.MapContainsKeys(t, e, []string{"config", "target_fraction", "target", "cooldown", "cooldown_on_scale_up",
			"metric_window", "threshold", "sla_days_met", "days", "worker_hours", "billed_worker_hours", "cost",
			"availability_pct", "scale_ups", "scale_downs", "selected"})
		if e["selected"].(bool) {
			selected++
		}
	}
	must.Eq(t, 1, selected)
	must.MapContainsKeys(t, summary["parameters"].(map[string]any), []string{"daily", "capacity", "lead", "service_time",
		"request_timeout", "sla_p95", "business_hours", "tz", "price", "policy"})

	f, err := os.Open(filepath.Join(dir, TimelineFile))
	must.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	must.True(t, sc.Scan())
	must.Eq(t, "timestamp,requests,slope,target-value,predictive,static-peak,oracle", sc.Text())
	must.True(t, sc.Scan())
	must.True(t, strings.HasPrefix(sc.Text(), "2026-01-05T01:00:00Z,"), must.Sprint(sc.Text()))
	rows := 1
	for sc.Scan() {
		rows++
	}
	must.Eq(t, len(res.Arrivals), rows)

	pf, err := os.Open(filepath.Join(dir, ReportFile))
	must.NoError(t, err)
	defer pf.Close()
	img, err := png.Decode(pf)
	must.NoError(t, err)
	must.Greater(t, 1000, img.Bounds().Dx())
}

func TestSecondsWritesAnUnboundedLatencyAsNull(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal([]Seconds{1.23456, Seconds(math.Inf(1))})
	must.NoError(t, err)
	must.Eq(t, "[1.235,null]", string(b))
}

func TestSecondsPrintsForPeople(t *testing.T) {
	t.Parallel()
	must.Eq(t, "2.50s", Seconds(2.5).String())
	must.Eq(t, "unbounded", Seconds(math.Inf(1)).String())
}

func TestMissedDaysListsTheWorstFirst(t *testing.T) {
	t.Parallel()
	days := []DayScore{{Date: "d1", P95: 1, Met: true}, {Date: "d2", P95: 9}, {Date: "d3", P95: Seconds(math.Inf(1))}, {Date: "d4", P95: 4}}
	must.Eq(t, "d3 (p95 unbounded), d2 (p95 9.00s), and 1 more", missedDays(days, 2))
	must.Eq(t, "", missedDays(days[:1], 2))
}

func TestRunStartsEveryAutoscalerAtTheStaticPeakAfterAnUnscoredWarmUp(t *testing.T) {
	t.Parallel()
	type firstCall struct {
		at    time.Time
		count int64
	}
	var mu sync.Mutex
	var firsts []firstCall
	factory := func(_ string, _ hclog.Logger, now func() time.Time) (strategy.Strategy, error) {
		return &fakeStrategy{quiet: true, decide: func(n int, _ sdk.TimestampedMetrics, count int64) (int64, error) {
			if n == 0 {
				mu.Lock()
				firsts = append(firsts, firstCall{at: now(), count: count})
				mu.Unlock()
			}
			return count, nil
		}}, nil
	}
	tr := dailyWave(1)
	res, err := run(context.Background(), testConfig(), tr, "wave", factory)
	must.NoError(t, err)
	// Every replay (the policy, each target-value configuration and
	// predictive) is first evaluated at the end of the 60-minute warm-up,
	// at the static-peak count, and no minute of the warm-up is scored.
	must.Len(t, 2+len(targetValueGrid()), firsts)
	for _, f := range firsts {
		must.Eq(t, firstCall{tr.Start.Add(time.Hour), 19}, f)
	}
	must.Eq(t, tr.Start.Add(time.Hour), res.ScoredStart)
	must.Eq(t, tr.Counts[60:], res.Arrivals)
	for _, name := range []string{NameSlope, NameTargetValue, NamePredictive} {
		s := res.Strategy(name)
		must.Eq(t, len(res.Arrivals), s.Evaluations, must.Sprint(name, ": one evaluation per scored minute"))
		must.Eq(t, int64(19), s.Workers[0])
	}
}

func TestRunReportsTheSelectedTargetValueAndRunsPredictiveOnIt(t *testing.T) {
	t.Parallel()
	res, err := Run(context.Background(), testConfig(), dailyWave(3), "wave")
	must.NoError(t, err)
	must.Len(t, len(targetValueGrid()), res.TargetValueGrid)
	selected := -1
	for i, e := range res.TargetValueGrid {
		if e.Selected {
			must.Eq(t, -1, selected, must.Sprint("one selected entry"))
			selected = i
		}
	}
	must.Eq(t, selectEntry(res.TargetValueGrid, 0), selected)
	e := res.TargetValueGrid[selected]
	tv, pred := res.Strategy(NameTargetValue), res.Strategy(NamePredictive)
	must.Eq(t, e.Config.String(), tv.Config)
	must.Eq(t, e.Config.String(), pred.Config)
	must.Eq(t, e.DaysMet, tv.DaysMet)
	must.Eq(t, e.BilledWorkerHours, tv.BilledWorkerHours)

	var table strings.Builder
	must.NoError(t, res.WriteTable(&table))
	for _, want := range []string{"target-value (" + e.Config.String() + ")", "predictive (" + e.Config.String() + ")",
		"static-peak", "oracle", "perfect level (x", "physical limit", fmt.Sprintf("the best of %d configurations", len(targetValueGrid()))} {
		must.StrContains(t, table.String(), want)
	}
}

func TestRunReportsTargetValueHeldToThePeerAvailabilityWhenAsked(t *testing.T) {
	t.Parallel()
	// The wave with a burst of three times its midday traffic each day:
	// a configuration that runs its workers hot queues through it.
	tr := dailyWave(3)
	for d := range 3 {
		for m := 720; m < 735; m++ {
			tr.Counts[d*1440+m] *= 3
		}
	}
	res, err := Run(context.Background(), testConfig(), tr, "wave")
	must.NoError(t, err)
	must.Nil(t, res.Strategy(NameTargetValueSLO), must.Sprint("off by default"))
	tv := res.TargetValueGrid[selectEntry(res.TargetValueGrid, 0)]
	must.Less(t, 100, tv.AvailabilityPct, must.Sprint("the wave must leave the selected target-value below 100% for this test"))

	// Just above what the selection reached: it no longer qualifies.
	cfg := testConfig()
	cfg.PeerAvailability = tv.AvailabilityPct + 0.001
	held, err := Run(context.Background(), cfg, tr, "wave")
	must.NoError(t, err)
	want := selectEntry(held.TargetValueGrid, cfg.PeerAvailability)
	must.NotEq(t, -1, want, must.Sprint("some configuration of the grid is more available"))
	e := held.TargetValueGrid[want]
	slo := held.Strategy(NameTargetValueSLO)
	must.NotNil(t, slo)
	must.Eq(t, e.Config.String(), slo.Config)
	must.NotEq(t, tv.Config.String(), slo.Config)
	must.GreaterEq(t, cfg.PeerAvailability, slo.AvailabilityPct)
	must.Eq(t, e.BilledWorkerHours, slo.BilledWorkerHours)
	must.Eq(t, held.Strategies[len(StrategyNames)].Name, NameTargetValueSLO, must.Sprint("after the usual five"))
	marked := 0
	for i, g := range held.TargetValueGrid {
		if g.SelectedSLO {
			marked++
			must.Eq(t, want, i)
		}
	}
	must.Eq(t, 1, marked)
	var table, summary, timeline strings.Builder
	must.NoError(t, held.WriteTable(&table))
	must.StrContains(t, table.String(), "target-value-slo ("+e.Config.String()+")")
	must.StrContains(t, table.String(), fmt.Sprintf("at least %g%% available", cfg.PeerAvailability))
	must.NoError(t, held.WriteSummary(&summary))
	must.StrContains(t, summary.String(), `"target-value-slo"`)
	must.StrContains(t, summary.String(), `"selected_slo": true`)
	must.StrContains(t, summary.String(), fmt.Sprintf(`"peer_availability": %g`, cfg.PeerAvailability))
	must.NoError(t, held.WriteTimeline(&timeline))
	header, _, _ := strings.Cut(timeline.String(), "\n")
	must.Eq(t, "timestamp,requests,slope,target-value,predictive,static-peak,oracle", header, must.Sprint("the issue's columns, unchanged"))
	must.NoError(t, held.WriteReport(io.Discard))

	// When no configuration reaches the bound, the table says so.
	none := *held
	none.Strategies = held.Strategies[:len(StrategyNames)]
	none.Config.PeerAvailability = 99.999
	table.Reset()
	must.NoError(t, none.WriteTable(&table))
	must.StrContains(t, table.String(), "target-value-slo: no configuration of the grid was 99.999% available")
}

func TestRunGivesTheSameResultEveryTime(t *testing.T) {
	t.Parallel()
	outputs := func() (string, string) {
		res, err := Run(context.Background(), testConfig(), dailyWave(3), "wave")
		must.NoError(t, err)
		var summary, timeline strings.Builder
		must.NoError(t, res.WriteSummary(&summary))
		must.NoError(t, res.WriteTimeline(&timeline))
		return summary.String(), timeline.String()
	}
	s1, t1 := outputs()
	s2, t2 := outputs()
	must.Eq(t, s1, s2)
	must.Eq(t, t1, t2)
}

func TestRunGivesPerDayFiguresThatAddUpToTheTotals(t *testing.T) {
	t.Parallel()
	// A wave too fast for the policy's tuned-too-high target, so that
	// days differ and some minutes are unavailable.
	tr := dailyWave(3)
	for i := range tr.Counts {
		if i%1440 >= 600 && i%1440 < 660 {
			tr.Counts[i] *= 3
		}
	}
	cfg := testConfig()
	cfg.RequestTimeout = 10 * time.Second
	res, err := Run(context.Background(), cfg, tr, "wave")
	must.NoError(t, err)
	for _, s := range res.Strategies {
		var ok, business float64
		for _, d := range s.PerDay {
			ok += d.AvailabilityPct * float64(d.BusinessMinutes) / 100
			business += float64(d.BusinessMinutes)
		}
		must.Eq(t, round(s.AvailabilityPct, 9), round(100*ok/business, 9), must.Sprint(s.Name))
		var billed, serving int64
		for i := range s.Workers {
			must.GreaterEq(t, s.Workers[i], s.BilledWorkers[i], must.Sprint(s.Name))
			serving += s.Workers[i]
			billed += s.BilledWorkers[i]
		}
		must.Eq(t, round(s.BilledWorkerHours, 9), round(float64(billed)/60, 9), must.Sprint(s.Name))
		must.Eq(t, round(s.WorkerHours, 9), round(float64(serving)/60, 9), must.Sprint(s.Name))
	}
	must.Less(t, 100.0, res.Strategy(NameSlope).AvailabilityPct, must.Sprint("the test needs unavailable minutes"))
}

func TestRaiseMaxLiftsACapSizedForLessTraffic(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Daily = 20 * dailyWave(2).Total() / 2 // twenty times the wave: a peak of 380 workers
	capped, err := Run(context.Background(), cfg, dailyWave(2), "wave")
	must.NoError(t, err)
	must.Positive(t, capped.Strategy(NameSlope).ClampedMinutes, must.Sprint("max 400 clamps the backlog's asks at this volume"))
	cfg.RaiseMax = true
	raised, err := Run(context.Background(), cfg, dailyWave(2), "wave")
	must.NoError(t, err)
	must.Eq(t, 2*raised.StaticPeakWorkers, raised.Policy.Max)
	must.Eq(t, 400, capped.Policy.Max)
}
