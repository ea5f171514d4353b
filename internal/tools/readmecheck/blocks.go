package readmecheck

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/textfmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/tracegen"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/validate"
)

// referenceCommand is the backtest the READMEs quote.
const referenceCommand = "go run ./cmd/backtest -trace data/nasa-http-jul95.csv.gz -daily 2000000 -capacity 100 -lead 5m -tz America/New_York -business-hours 08:00-22:00 -policy policies/gpu-workers.hcl"

// Blocks is every README region the repository's commands produce, the
// fast ones first.
func Blocks() []Block {
	return []Block{
		{File: "cmd/backtest/README.md", ID: "results", Command: referenceCommand, Render: backtestResults},
		{File: "cmd/backtest/README.md", ID: "grid", Command: referenceCommand + " -out DIR (target_value_grid in summary.json)", Render: backtestGrid},
		{File: "cmd/backtest/README.md", ID: "waits", Command: referenceCommand + " -scale-up-wait U -scale-down-wait D", Render: backtestWaits},
		{File: "cmd/backtest/README.md", ID: "shapes", Command: shapesCommand, Render: backtestShapes},
		{File: "README.md", ID: "backtest", Command: referenceCommand, Render: topBacktest},
		{File: "cmd/tracegen/README.md", ID: "traces", Command: "go run ./cmd/tracegen ... (the standard set above)", Render: tracegenTable},
		{File: "cmd/validate/README.md", ID: "results", Command: "make validate", Slow: true, Render: validateRows},
		{File: "plugins/strategy-slope/README.md", ID: "validation", Command: "make validate", Slow: true, Render: strategyValidation},
		{File: "README.md", ID: "validation", Command: "make validate", Slow: true, Render: topValidation},
		{File: "cmd/backtest/README.md", ID: "bench", Command: "go test -run '^$' -bench . -benchtime 1x -count 3 ./internal/tools/backtest", Measured: true},
		{File: "plugins/strategy-slope/README.md", ID: "bench", Command: "go test -run '^$' -bench 'Run|Calibrate|ParseConfig|ConfigCache' -benchtime 2s -count 3 ./plugins/strategy-slope/plugin/", Measured: true},
	}
}

// nasaTraceFile is the shared trace every README backtest replays.
const nasaTraceFile = "data/nasa-http-jul95.csv.gz"

// nasaTrace reads the shared trace once per check run: the replays only
// read it.
func (c *Cache) nasaTrace() (backtest.Trace, error) {
	v, err := c.Do("trace", func() (any, error) {
		return backtest.ReadTraceFile(filepath.Join(c.Root, nasaTraceFile))
	})
	if err != nil {
		return backtest.Trace{}, err
	}
	return v.(backtest.Trace), nil
}

// nasaConfig is the flags the READMEs' commands share: the shipped policy
// on the shared trace at 2M requests/day, New York time.
func nasaConfig(root string) backtest.Config {
	cfg := backtest.DefaultConfig()
	cfg.PolicyPath = filepath.Join(root, backtest.DefaultPolicy)
	cfg.Daily, cfg.TimeZone = 2_000_000, "America/New_York"
	return cfg
}

func (c *Cache) backtest(ctx context.Context, up, down time.Duration) (*backtest.Result, error) {
	v, err := c.Do(fmt.Sprintf("backtest %s %s", up, down), func() (any, error) {
		tr, err := c.nasaTrace()
		if err != nil {
			return nil, err
		}
		cfg := nasaConfig(c.Root)
		cfg.Capacity = 100
		cfg.ScaleUpWait, cfg.ScaleDownWait = up, down
		return backtest.Run(ctx, cfg, tr, nasaTraceFile)
	})
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	return v.(*backtest.Result), nil
}

func (c *Cache) reference(ctx context.Context) (*backtest.Result, error) {
	return c.backtest(ctx, backtest.DefaultScaleUpWait, backtest.DefaultScaleDownWait)
}

func backtestResults(ctx context.Context, c *Cache) (string, error) {
	r, err := c.reference(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| strategy | worker-hours | billed | cost | × oracle | × limit | SLA days met | availability % | worst-day p95 | scale-ups/downs |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Strategies {
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.2f | %.3f | %.3f | %d/%d | %.3f | %.2f s | %d/%d |\n",
			s.Label(), s.WorkerHours, s.BilledWorkerHours, s.Cost, r.RatioToOracle(s.Name), r.RatioToPhysicalLimit(s.Name),
			s.DaysMet, s.Days, s.AvailabilityPct, float64(s.WorstDayP95), s.ScaleUps, s.ScaleDowns)
	}
	lv := r.PerfectLevel
	fmt.Fprintf(&b, "| %s (x%.2f) | %.1f | %.1f | %.2f | %.3f | %.3f | %d/%d | %.3f | %.2f s | %d/%d |\n",
		backtest.NamePerfectLevel, lv.Headroom, lv.WorkerHours, lv.BilledWorkerHours, lv.Cost, lv.WorkerHours/r.Strategy(backtest.NameOracle).WorkerHours,
		lv.WorkerHours/r.PhysicalLimitWorkerHours, lv.DaysMet, lv.Days, lv.AvailabilityPct, float64(lv.WorstDayP95), lv.ScaleUps, lv.ScaleDowns)
	pl := r.PhysicalLimitWorkerHours
	fmt.Fprintf(&b, "| physical limit | %.1f | %.1f | %.2f | %.3f | %.3f | | | | |\n",
		pl, pl, pl*r.Config.Price, pl/r.Strategy(backtest.NameOracle).WorkerHours, 1.0)
	return b.String(), nil
}

// backtestGrid is the best configuration of each target fraction.
func backtestGrid(ctx context.Context, c *Cache) (string, error) {
	r, err := c.reference(ctx)
	if err != nil {
		return "", err
	}
	best := map[float64]backtest.GridEntry{}
	var fractions []float64
	for _, e := range r.TargetValueGrid { // grid order: the first of equals wins, as in the selection
		f := e.Config.TargetFraction
		cur, seen := best[f]
		switch {
		case !seen:
			fractions = append(fractions, f)
			best[f] = e
		case e.DaysMet > cur.DaysMet || (e.DaysMet == cur.DaysMet && e.BilledWorkerHours < cur.BilledWorkerHours):
			best[f] = e
		}
	}
	slices.Sort(fractions)
	var b strings.Builder
	b.WriteString("| target-value | SLA days met | worker-hours | billed | availability % | scale-ups/downs |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	for _, f := range fractions {
		e := best[f]
		label := e.Config.String()
		if e.Selected {
			label = "**" + label + "** (selected)"
		}
		fmt.Fprintf(&b, "| %s | %d/%d | %.1f | %.1f | %.3f | %d/%d |\n",
			label, e.DaysMet, e.Days, e.WorkerHours, e.BilledWorkerHours, e.AvailabilityPct, e.ScaleUps, e.ScaleDowns)
	}
	return b.String(), nil
}

func backtestWaits(ctx context.Context, c *Cache) (string, error) {
	waits := []struct {
		up, down time.Duration
		note     string
	}{
		{0, 0, ""},
		{backtest.DefaultScaleUpWait, backtest.DefaultScaleDownWait, " (the defaults)"},
		{2 * time.Minute, 5 * time.Minute, " (the policy's `node_drain_deadline` reached)"},
		{90 * time.Second, 15 * time.Minute, ""},
	}
	var b strings.Builder
	b.WriteString("| `-scale-up-wait` / `-scale-down-wait` | slope × oracle | slope SLA days | slope availability % | slope worst-day p95 | target-value SLA days | target-value availability % |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, w := range waits {
		r, err := c.backtest(ctx, w.up, w.down)
		if err != nil {
			return "", err
		}
		s, tv := r.Strategy(backtest.NameSlope), r.Strategy(backtest.NameTargetValue)
		fmt.Fprintf(&b, "| `%s` / `%s`%s | %.3f | %d/%d | %.3f | %.2f s | %d/%d | %.3f |\n",
			shortDuration(w.up), shortDuration(w.down), w.note, r.RatioToOracle(backtest.NameSlope), s.DaysMet, s.Days,
			s.AvailabilityPct, float64(s.WorstDayP95), tv.DaysMet, tv.Days, tv.AvailabilityPct)
	}
	return b.String(), nil
}

// shapesCommand is the capacity-planning run cmd/backtest/README.md quotes.
const shapesCommand = "go run ./cmd/backtest -trace data/nasa-http-jul95.csv.gz -daily 2000000 -tz America/New_York -shapes deploy/gpu-shapes.csv -out out/shapes"

// backtestShapes is shapesCommand's table: the shipped policy replayed
// once per VM shape of deploy/gpu-shapes.csv, cheapest at the SLA first.
func backtestShapes(ctx context.Context, c *Cache) (string, error) {
	tr, err := c.nasaTrace()
	if err != nil {
		return "", err
	}
	shapes, err := backtest.ReadShapesFile(filepath.Join(c.Root, "deploy/gpu-shapes.csv"))
	if err != nil {
		return "", err
	}
	res, err := backtest.RunShapes(ctx, nasaConfig(c.Root), tr, nasaTraceFile, shapes)
	if err != nil {
		return "", fmt.Errorf("backtest -shapes: %w", err)
	}
	var b strings.Builder
	b.WriteString("| shape | GPUs | req/min per VM | $/VM-hour | lead | billed VM-hours | cost/month | per 1M requests | SLA days met | availability % | worst-day p95 | oracle cost/month | limit cost/month |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range res.Shapes {
		p := s.Policy
		fmt.Fprintf(&b, "| %s | %d | %g | %.4f | %s | %s | %s | %.2f | %d/%d | %.3f | %.2f s | %s | %s |\n",
			s.Shape.Name, s.Shape.GPUs, s.Shape.CapacityPerVM(), s.Shape.PricePerHour, shortDuration(s.Shape.Lead),
			textfmt.Thousands(p.BilledWorkerHours), textfmt.Thousands(s.CostPerMonth), s.CostPerMillion, p.DaysMet, p.Days,
			p.AvailabilityPct, float64(p.WorstDayP95), textfmt.Thousands(s.OracleCostPerMonth), textfmt.Thousands(s.LimitCostPerMonth))
	}
	return b.String(), nil
}

func topBacktest(ctx context.Context, c *Cache) (string, error) {
	r, err := c.reference(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| strategy | worker-hours | billed | × oracle | × physical limit | SLA days met | availability |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	labels := map[string]string{
		backtest.NameSlope:       "**slope** (`policies/gpu-workers.hcl`)",
		backtest.NameTargetValue: "target-value (official, tuned: %s)",
		backtest.NamePredictive:  "predictive (AWS-style, with that target-value)",
		backtest.NameStaticPeak:  "static peak",
		backtest.NameOracle:      "oracle",
	}
	for _, s := range r.Strategies {
		label := labels[s.Name]
		if strings.Contains(label, "%s") {
			label = fmt.Sprintf(label, s.Config)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.3f | %.3f | %d/%d | %.3f %% |\n", label, textfmt.Thousands(s.WorkerHours), textfmt.Thousands(s.BilledWorkerHours),
			r.RatioToOracle(s.Name), r.RatioToPhysicalLimit(s.Name), s.DaysMet, s.Days, s.AvailabilityPct)
	}
	lv := r.PerfectLevel
	fmt.Fprintf(&b, "| perfect level (each 20 minutes' mean known, x%.2f) | %s | %s | %.3f | %.3f | %d/%d | %.3f %% |\n", lv.Headroom,
		textfmt.Thousands(lv.WorkerHours), textfmt.Thousands(lv.BilledWorkerHours), lv.WorkerHours/r.Strategy(backtest.NameOracle).WorkerHours,
		lv.WorkerHours/r.PhysicalLimitWorkerHours, lv.DaysMet, lv.Days, lv.AvailabilityPct)
	return b.String(), nil
}

func tracegenTable(_ context.Context, _ *Cache) (string, error) {
	var b strings.Builder
	b.WriteString("| file | minutes | mean/day | peak minute | peak/mean |\n")
	b.WriteString("|---|--:|--:|--:|--:|\n")
	for _, st := range validate.StandardTraces() {
		p := st.Profile
		p.Daily = 2_000_000
		counts, start, err := tracegen.Generate(p)
		if err != nil {
			return "", err
		}
		s := tracegen.Summarize(start, counts)
		fmt.Fprintf(&b, "| %s.csv.gz | %s | %s | %s | %.2f |\n", st.Name, textfmt.Thousands(float64(s.Minutes)), textfmt.Thousands(s.MeanPerDay),
			textfmt.Thousands(float64(s.Peak)), s.PeakToMean)
	}
	return b.String(), nil
}

func (c *Cache) validation(ctx context.Context) (*validate.Report, error) {
	v, err := c.Do("validate", func() (any, error) {
		o := validate.DefaultOptions()
		o.Command = "make validate (go run ./cmd/validate -out run/validate)"
		o.PolicyPath = filepath.Join(c.Root, o.PolicyPath)
		o.TracePath = filepath.Join(c.Root, o.TracePath)
		return validate.Validate(ctx, o, io.Discard)
	})
	if err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return v.(*validate.Report), nil
}

func validateRows(ctx context.Context, c *Cache) (string, error) {
	rep, err := c.validation(ctx)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := rep.WriteMarkdown(&b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// strategyValidation is the validate table without its verdict column.
func strategyValidation(ctx context.Context, c *Cache) (string, error) {
	rows, err := validateRows(ctx, c)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, line := range strings.Split(rows, "\n") {
		if !strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "|-") {
			continue
		}
		// Every column but the verdict (the README says what misses).
		cells := strings.Split(strings.Trim(line, "|"), "|")
		cells = cells[:len(cells)-1]
		b.WriteString("|" + strings.Join(cells, "|") + "|\n")
	}
	return b.String(), nil
}

// topValidation is the top README's selection of validate rows.
func topValidation(ctx context.Context, c *Cache) (string, error) {
	rep, err := c.validation(ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| scenario | volume | SLA days | availability | × oracle | perfect level × oracle | target-value days, availability, × oracle (its tuned target) | predictive days, availability, × oracle | target-value held to the availability goal |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range rep.Rows {
		label, ok := topLabel(row)
		if !ok {
			continue
		}
		target, _, _ := strings.Cut(row.TargetValueConfig, ",")
		held := "none"
		if q := row.TargetValueSLO; q != nil {
			t, _, _ := strings.Cut(row.TargetValueSLOConfig, ",")
			held = fmt.Sprintf("%d/%d, %.2f %%, %.2f (%s)", q.DaysMet, q.Days, q.AvailabilityPct, q.RatioToOracle, t)
		}
		fmt.Fprintf(&b, "| %s | %s | %d/%d | %.2f %% | %.2f | %.2f | %d/%d, %.2f %%, %.2f (%s) | %d/%d, %.2f %%, %.2f | %s |\n", label, shortVolume(row.Volume),
			row.Slope.DaysMet, row.Slope.Days, row.Slope.AvailabilityPct, row.Slope.RatioToOracle, row.PerfectLevel.RatioToOracle,
			row.TargetValue.DaysMet, row.TargetValue.Days, row.TargetValue.AvailabilityPct, row.TargetValue.RatioToOracle, target,
			row.Predictive.DaysMet, row.Predictive.Days, row.Predictive.AvailabilityPct, row.Predictive.RatioToOracle, held)
	}
	return b.String(), nil
}

// shortDuration writes a flag's duration as the READMEs do: 0s, 90s, 2m.
func shortDuration(d time.Duration) string {
	if d != 0 && d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// heldOutTrace reports whether the matrix marks the synthetic trace name as
// held out (validate.StandardTraces).
func heldOutTrace(name string) bool {
	for _, st := range validate.StandardTraces() {
		if st.Name == name {
			return st.HeldOut
		}
	}
	return false
}

func shortVolume(v float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%gM", v/1e6), ".0M")
}

// topLabel names the rows of the top README's validation table: the held
// out half of the real trace at each volume, the smoothed trace, and the
// synthetic traces (the held-out ones as validate labels them).
func topLabel(row validate.Row) (string, bool) {
	scenario, part, volume := row.Scenario, row.Part, row.Volume
	switch {
	case scenario == "nasa" && part == validate.PartHeldOut && volume == 500_000:
		return "nasa, held out (days 15-28)", true
	case scenario == "nasa" && part == validate.PartHeldOut:
		return "nasa, held out", true
	case scenario == "nasa~poisson":
		return "nasa, smoothed + Poisson", true
	case scenario == "business-a" && volume == 2_000_000, scenario == "business-b" && volume == 2_000_000:
		return scenario + " (synthetic)", true
	case scenario == "flashcrowd-a" && volume == 2_000_000:
		return "flashcrowd-a (synthetic, 87 days, 100x growth)", true
	case scenario == "flashcrowd-a":
		return "flashcrowd-a (synthetic)", true
	case heldOutTrace(scenario):
		return row.Label, true
	}
	return "", false
}
