package backtest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/plugins/base"
	"github.com/hashicorp/nomad-autoscaler/plugins/strategy"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// sizingStrategy asks for ceil(last rate / capacity_per_worker of the
// check it is handed) and records every capacity it was handed.
type sizingStrategy struct {
	mu   *sync.Mutex
	seen map[string]int
}

var _ strategy.Strategy = sizingStrategy{}

func (s sizingStrategy) PluginInfo() (*base.PluginInfo, error) {
	return &base.PluginInfo{Name: "sizing", PluginType: sdk.PluginTypeStrategy}, nil
}

func (s sizingStrategy) SetConfig(map[string]string) error { return nil }

func (s sizingStrategy) Run(eval *sdk.ScalingCheckEvaluation, count int64) (*sdk.ScalingCheckEvaluation, error) {
	c := eval.Check.Strategy.Config["capacity_per_worker"]
	s.mu.Lock()
	s.seen[c]++
	s.mu.Unlock()
	capacity, err := strconv.ParseFloat(c, 64)
	if err != nil {
		return nil, err
	}
	want := int64(math.Ceil(eval.Metrics[len(eval.Metrics)-1].Value / capacity))
	eval.Action.Count = want
	switch {
	case want > count:
		eval.Action.Direction = sdk.ScaleDirectionUp
	case want < count:
		eval.Action.Direction = sdk.ScaleDirectionDown
	default:
		eval.Action.Direction = sdk.ScaleDirectionNone
	}
	return eval, nil
}

// sizingPolicy has one slope rate check whose capacity_per_worker (1) is
// wrong for every shape: the shape must replace it.
const sizingPolicy = `scaling "w" {
  enabled = true
  min = 1
  max = 100
  policy {
    evaluation_interval = "1m"
    cooldown = "1m"
    check "rate" {
      source = "ekyc"
      query  = "postgres:requests_per_minute"
      query_window = "5m"
      strategy "slope" {
        capacity_per_worker = "1"
        lead = "5m"
        horizon = "8m"
      }
    }
  }
}`

// flat is three hours of 100 requests a minute: one hour of warm-up, then
// 120 scored minutes and 12,000 scored requests.
func flat() Trace {
	tr := Trace{Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Counts: make([]float64, 180)}
	for i := range tr.Counts {
		tr.Counts[i] = 100
	}
	return tr
}

// twoShapes: A serves 100 a minute per VM at $3 an hour; B has two
// workers of 40 a minute per VM (80) at $1 an hour.
var twoShapes = []Shape{
	{Name: "A", GPUs: 1, WorkersPerVM: 1, CapacityPerWorker: 100, PricePerHour: 3, Lead: 5 * time.Minute, Line: 2},
	{Name: "B", GPUs: 2, WorkersPerVM: 2, CapacityPerWorker: 40, PricePerHour: 1, Lead: 7 * time.Minute, Line: 3},
}

func runTwoShapes(t *testing.T) (*ShapesResult, map[string]int) {
	t.Helper()
	return runTwoShapesWith(t, writePolicy(t, sizingPolicy))
}

func runTwoShapesWith(t *testing.T, policy string) (*ShapesResult, map[string]int) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.PolicyPath = policy
	cfg.BusinessHours = "00:00-24:00"
	seen := map[string]int{}
	var mu sync.Mutex
	factory := func(string, hclog.Logger, func() time.Time) (strategy.Strategy, error) {
		return sizingStrategy{mu: &mu, seen: seen}, nil
	}
	res, err := runShapes(context.Background(), cfg, flat(), "flat", twoShapes, factory)
	must.NoError(t, err)
	return res, seen
}

func TestRunShapesHandsTheStrategyEachShapesCapacity(t *testing.T) {
	t.Parallel()
	_, seen := runTwoShapes(t)
	// 120 evaluations per shape, each with its VM's capacity; never the
	// policy's own 1.
	must.Eq(t, map[string]int{"100": 120, "80": 120}, seen)
}

func TestRunShapesCostsAHandCheckedTrace(t *testing.T) {
	t.Parallel()
	res, _ := runTwoShapes(t)
	must.Eq(t, 120, res.ScoredMinutes)
	must.Eq(t, 12000.0, res.ScoredRequests)
	must.SliceLen(t, 2, res.Shapes)
	// B first: 2 VMs (ceil(100 / 80)) for 2 hours at $1 = $4; then A:
	// 1 VM for 2 hours at $3 = $6. A month is 30 x 1440 / 120 = 360 times
	// the 120 scored minutes; a million requests is 1e6 / 12,000 of them.
	b, a := res.Shapes[0], res.Shapes[1]
	must.Eq(t, "B", b.Shape.Name)
	must.Eq(t, int64(2), b.StaticPeakVMs)
	must.Eq(t, 4.0, b.Policy.BilledWorkerHours)
	must.Eq(t, 4.0, b.Policy.Cost)
	must.EqFunc(t, 1440.0, b.CostPerMonth, approx)
	must.EqFunc(t, 4/0.012, b.CostPerMillion, approx)
	must.Eq(t, "A", a.Shape.Name)
	must.Eq(t, 2.0, a.Policy.BilledWorkerHours)
	must.EqFunc(t, 2160.0, a.CostPerMonth, approx)
	must.EqFunc(t, 500.0, a.CostPerMillion, approx)
	for _, s := range res.Shapes {
		must.True(t, s.MeetsSLA())
		must.Eq(t, 1, s.Policy.Days)
		must.Eq(t, 100.0, s.Policy.AvailabilityPct)
		// The fleet never changes, so the oracle and the limit cost the same.
		must.EqFunc(t, s.CostPerMonth, s.OracleCostPerMonth, approx)
		must.EqFunc(t, s.CostPerMonth, s.LimitCostPerMonth, approx)
		must.Eq(t, 0, s.Policy.ScaleUps+s.Policy.ScaleDowns)
	}
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9*max(1, math.Abs(a)) }

func TestRunShapesRefusesAShapeWhoseFleetWouldOverflow(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.PolicyPath = writePolicy(t, sizingPolicy)
	tiny := Shape{Name: "tiny", GPUs: 1, WorkersPerVM: 1, CapacityPerWorker: 1e-9, PricePerHour: 1, Lead: time.Minute}
	_, err := RunShapes(context.Background(), cfg, flat(), "flat", []Shape{twoShapes[0], tiny})
	must.ErrorContains(t, err, `shape "tiny": minute 2026-01-05T00:00:00Z`)
}

func TestShapesOutputsAreWrittenTogether(t *testing.T) {
	t.Parallel()
	res, _ := runTwoShapes(t)
	res.ShapesSource = "shapes.csv"
	dir := filepath.Join(t.TempDir(), "out")
	must.NoError(t, res.WriteOutputs(dir))

	var sum ShapesSummary
	raw, err := os.ReadFile(filepath.Join(dir, ShapesSummaryFile))
	must.NoError(t, err)
	must.NoError(t, json.Unmarshal(raw, &sum))
	must.Eq(t, "shapes.csv", sum.Parameters.Shapes)
	must.Eq(t, 30, sum.MonthDays)
	must.Eq(t, ShapesSortRule, sum.SortRule)
	must.SliceLen(t, 2, sum.Shapes)
	must.Eq(t, 1, sum.Shapes[0].Rank)
	must.Eq(t, "B", sum.Shapes[0].Name)
	must.Eq(t, 80.0, sum.Shapes[0].CapacityPerVM)
	must.Eq(t, "7m0s", sum.Shapes[0].Lead)
	must.Eq(t, 1440.0, sum.Shapes[0].CostPerMonth)
	must.Eq(t, 333.3333, sum.Shapes[0].CostPerMillionRequests)
	must.Eq(t, 4.0, sum.Shapes[0].Policy.BilledWorkerHours)
	must.Eq(t, 1440.0, sum.Shapes[0].Oracle.CostPerMonth)
	must.Eq(t, 4.0, sum.Shapes[0].PhysicalLimit.VMHours)
	for _, key := range []string{`"meets_sla": true`, `"cost_per_million_requests"`, `"physical_limit"`, `"per_day"`} {
		must.StrContains(t, string(raw), key)
	}

	f, err := os.Open(filepath.Join(dir, ShapesCSVFile))
	must.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	must.NoError(t, err)
	must.SliceLen(t, 3, rows)
	must.Eq(t, strings.Split(ShapesCSVHeader, ","), rows[0])
	must.Eq(t, []string{"1", "B", "2", "2", "40", "80", "1", "7m0s", "4", "1440", "333.3333", "1", "1", "true", "100", "1", "1440", "1440"}, rows[1])
	must.Eq(t, "A", rows[2][1])

	img, err := os.Open(filepath.Join(dir, ShapesChartFile))
	must.NoError(t, err)
	defer img.Close()
	cfg, err := png.DecodeConfig(img)
	must.NoError(t, err)
	must.Positive(t, cfg.Width)

	entries, err := os.ReadDir(dir)
	must.NoError(t, err)
	must.SliceLen(t, 3, entries, must.Sprint("no temporary file is left"))
}

func TestShapesOutputsFailIntoAnUnusableDirectory(t *testing.T) {
	t.Parallel()
	res, _ := runTwoShapes(t)
	file := writeFile(t, "not-a-dir", "x")
	must.ErrorContains(t, res.WriteOutputs(file), "not a directory")
}

func TestShapesTableNamesTheRuleAndTheShapesInOrder(t *testing.T) {
	t.Parallel()
	res, _ := runTwoShapes(t)
	var b bytes.Buffer
	must.NoError(t, res.WriteTable(&b))
	out := b.String()
	must.StrContains(t, out, `policy "w" replayed once per shape, counting VMs`)
	must.StrContains(t, out, "sorted: "+ShapesSortRule)
	must.StrContains(t, out, "over the 0.1 scored days, scaled to 30 days")
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 13 {
			names = append(names, f[0])
		}
	}
	must.Eq(t, []string{"B", "A"}, names)
	must.StrNotContains(t, out, "warning")
}

func TestRunShapesGivesTheSameResultWhateverTheOrderOfTheReplays(t *testing.T) {
	t.Parallel()
	policy := writePolicy(t, sizingPolicy)
	first, _ := runTwoShapesWith(t, policy)
	for range 3 {
		again, _ := runTwoShapesWith(t, policy)
		var a, b bytes.Buffer
		must.NoError(t, first.WriteSummary(&a))
		must.NoError(t, again.WriteSummary(&b))
		must.Eq(t, a.String(), b.String())
	}
}

func TestShapesLeaveThePolicysSpotTierOutAndSaySo(t *testing.T) {
	p, err := LoadPolicy("../../../policies/gpu-workers.hcl", "")
	must.NoError(t, err)
	must.MapContainsKey(t, p.Target.Config, spotKeyMIGs, must.Sprint("the shipped policy has a Spot tier"))
	out, left := withoutSpot(p)
	must.True(t, left)
	for _, k := range []string{spotKeyMIGs, spotKeyShare, spotKeyCooldown} {
		must.MapNotContainsKey(t, out.Target.Config, k)
	}
	must.MapContainsKey(t, p.Target.Config, spotKeyMIGs, must.Sprint("the loaded policy is not changed"))
	same, left := withoutSpot(out)
	must.False(t, left)
	must.Eq(t, out, same)
}
