package backtest

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/outfiles"
)

// Output file names of a -shapes run in the -out directory.
const (
	ShapesSummaryFile = "shapes.json"
	ShapesCSVFile     = "shapes.csv"
	ShapesChartFile   = "shapes.png"
)

// ShapesSortRule says how the shapes are ordered, in the table and the files.
const ShapesSortRule = "shapes that met the SLA on every day first, cheapest first; then the others, most days met first, then cheapest; ties keep the file's order"

// ShapesCSVHeader is the header of shapes.csv.
const ShapesCSVHeader = "rank,name,gpus,workers_per_vm,capacity_per_worker,capacity_per_vm,price_per_hour,lead," +
	"billed_vm_hours,cost_per_month,cost_per_million_requests,sla_days_met,days,meets_sla,availability_pct," +
	"worst_day_p95_s,oracle_cost_per_month,physical_limit_cost_per_month"

// WriteOutputs writes shapes.json, shapes.csv and shapes.png into dir the
// way Result.WriteOutputs writes its files: all renamed into place
// together once all were written.
func (r *ShapesResult) WriteOutputs(dir string) error {
	return outfiles.Write("-out", dir,
		outfiles.File{Name: ShapesSummaryFile, Write: r.WriteSummary},
		outfiles.File{Name: ShapesCSVFile, Write: r.WriteCSV},
		outfiles.File{Name: ShapesChartFile, Write: r.WriteChart})
}

// scoredDays is the scored period in days.
func (r *ShapesResult) scoredDays() float64 { return float64(r.ScoredMinutes) / 1440 }

// WriteTable prints one line per shape in the sort order, the rule, and a
// warning per shape whose replay was capped by max or had strategy errors.
func (r *ShapesResult) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d minutes from %s scored (warm-up %d min), x%.2f to %.0f requests/day; policy %q replayed once per shape, counting VMs\n",
		r.Source, r.ScoredMinutes, r.ScoredStart.Format("2006-01-02T15:04Z07:00"), r.WarmupMinutes, r.ScaleFactor,
		r.ScoredRequests/r.scoredDays(), r.Policy.ID)
	if r.SpotLeftOut {
		fmt.Fprintln(w, "the policy's Spot tier is left out: every shape is priced on demand, so shapes compare on their own merits")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shape\tGPUs\treq/min per VM\t$/VM-hour\tlead\tbilled VM-hours\tcost/month\tper 1M requests\tSLA days met\tavailability %\tworst-day p95\toracle cost/month\tlimit cost/month\t")
	for _, s := range r.Shapes {
		fmt.Fprintf(tw, "%s\t%d\t%g\t%.4f\t%s\t%.1f\t%.0f\t%.2f\t%d/%d\t%.3f\t%s\t%.0f\t%.0f\t\n",
			s.Shape.Name, s.Shape.GPUs, s.Shape.CapacityPerVM(), s.Shape.PricePerHour, shortDuration(s.Shape.Lead),
			s.Policy.BilledWorkerHours, s.CostPerMonth, s.CostPerMillion, s.Policy.DaysMet, s.Policy.Days,
			s.Policy.AvailabilityPct, s.Policy.WorstDayP95, s.OracleCostPerMonth, s.LimitCostPerMonth)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "sorted: %s\n", ShapesSortRule)
	fmt.Fprintf(w, "cost/month: billed VM-hours (serving, booting, draining) over the %.1f scored days, scaled to %d days, x $/VM-hour; per 1M requests: the same cost over the %.4gM scored requests\n",
		r.scoredDays(), monthDays, r.ScoredRequests/1e6)
	for _, s := range r.Shapes {
		p := s.Policy
		if p.ClampedMinutes > 0 {
			fmt.Fprintf(w, "warning: %s: the policy's max = %d held the count below what a check asked for in %d of %d scored minutes (up to %d VMs asked): the SLA figures are those of a capped fleet; raise max or use -raise-max\n",
				s.Shape.Name, s.Max, p.ClampedMinutes, r.ScoredMinutes, p.MaxWanted)
		}
		if p.StrategyErrors > 0 || p.AbortedEvaluations > 0 {
			fmt.Fprintf(w, "%s: %d of %d evaluations had a strategy error, %d were dropped; first: %s\n",
				s.Shape.Name, p.StrategyErrors, p.Evaluations, p.AbortedEvaluations, p.FirstStrategyError)
		}
	}
	return nil
}

// ShapesSummary is the content of shapes.json.
type ShapesSummary struct {
	Trace      TraceSummary           `json:"trace"`
	Parameters ShapesParameterSummary `json:"parameters"`
	MonthDays  int                    `json:"month_days"`
	SortRule   string                 `json:"sort_rule"`
	Shapes     []ShapeSummary         `json:"shapes"`
}

// ShapesParameterSummary records the inputs of a -shapes run that do not
// vary by shape.
type ShapesParameterSummary struct {
	Shapes             string  `json:"shapes"`
	Policy             string  `json:"policy"`
	Scaling            string  `json:"scaling"`
	Daily              float64 `json:"daily"`
	ScaleUpWait        string  `json:"scale_up_wait"`
	ScaleDownWait      string  `json:"scale_down_wait"`
	ServiceTime        string  `json:"service_time"`
	RequestTimeout     string  `json:"request_timeout"`
	SLAP95             string  `json:"sla_p95"`
	BusinessHours      string  `json:"business_hours"`
	TimeZone           string  `json:"tz"`
	RaiseMax           bool    `json:"raise_max"`
	Min                int64   `json:"min"`
	Max                int64   `json:"max"`
	EvaluationInterval string  `json:"evaluation_interval"`
	Cooldown           string  `json:"cooldown"`
	CooldownOnScaleUp  string  `json:"cooldown_on_scale_up"`
	WarmupMinutes      int     `json:"warmup_minutes"`
	OracleBlock        string  `json:"oracle_block"`
	ScoredDays         float64 `json:"scored_days"`
}

// ShapeSummary is one shape's entry of shapes.json; the counts are VMs.
type ShapeSummary struct {
	Rank              int     `json:"rank"`
	Name              string  `json:"name"`
	Line              int     `json:"line"`
	GPUs              int     `json:"gpus"`
	WorkersPerVM      int     `json:"workers_per_vm"`
	CapacityPerWorker float64 `json:"capacity_per_worker"`
	CapacityPerVM     float64 `json:"capacity_per_vm"`
	PricePerHour      float64 `json:"price_per_hour"`
	Lead              string  `json:"lead"`
	// Max is the policy's max in this shape's replay (raised with
	// -raise-max); StaticPeakVMs is the warm-up count.
	Max                    int64            `json:"max"`
	StaticPeakVMs          int64            `json:"static_peak_vms"`
	MeetsSLA               bool             `json:"meets_sla"`
	CostPerMonth           float64          `json:"cost_per_month"`
	CostPerMillionRequests float64          `json:"cost_per_million_requests"`
	Policy                 StrategySummary  `json:"policy"`
	Oracle                 ReferenceSummary `json:"oracle"`
	PhysicalLimit          ReferenceSummary `json:"physical_limit"`
}

// ReferenceSummary is a reference fleet of one shape: the oracle or the
// physical limit.
type ReferenceSummary struct {
	VMHours                float64 `json:"vm_hours"`
	Cost                   float64 `json:"cost"`
	CostPerMonth           float64 `json:"cost_per_month"`
	CostPerMillionRequests float64 `json:"cost_per_million_requests"`
}

// Summary builds the shapes.json content.
func (r *ShapesResult) Summary() ShapesSummary {
	c, p := r.Config, r.Policy
	s := ShapesSummary{
		Trace: TraceSummary{
			Source: r.Source, Start: r.TraceStart, End: r.TraceStart.Add(time.Duration(r.TraceMinutes) * time.Minute),
			Minutes: r.TraceMinutes, ScaleFactor: r.ScaleFactor, ScoredStart: r.ScoredStart,
			ScoredMinutes: r.ScoredMinutes, ScoredRequests: round(r.ScoredRequests, 1),
		},
		Parameters: ShapesParameterSummary{
			Shapes: r.ShapesSource, Policy: c.PolicyPath, Scaling: p.ID, Daily: c.Daily,
			ScaleUpWait: c.ScaleUpWait.String(), ScaleDownWait: c.ScaleDownWait.String(),
			ServiceTime: c.ServiceTime.String(), RequestTimeout: c.RequestTimeout.String(), SLAP95: c.SLAP95.String(),
			BusinessHours: c.BusinessHours, TimeZone: c.TimeZone, RaiseMax: c.RaiseMax,
			Min: p.Min, Max: p.Max, EvaluationInterval: p.EvaluationInterval.String(),
			Cooldown: p.Cooldown.String(), CooldownOnScaleUp: p.CooldownOnScaleUp.String(),
			WarmupMinutes: r.WarmupMinutes, OracleBlock: oracleBlock.String(), ScoredDays: round(r.scoredDays(), 4),
		},
		MonthDays: monthDays,
		SortRule:  ShapesSortRule,
		Shapes:    make([]ShapeSummary, len(r.Shapes)),
	}
	for i, sr := range r.Shapes {
		sh := sr.Shape
		pol := sr.Policy
		s.Shapes[i] = ShapeSummary{
			Rank: i + 1, Name: sh.Name, Line: sh.Line, GPUs: sh.GPUs, WorkersPerVM: sh.WorkersPerVM,
			CapacityPerWorker: sh.CapacityPerWorker, CapacityPerVM: sh.CapacityPerVM(), PricePerHour: sh.PricePerHour,
			Lead: sh.Lead.String(), Max: sr.Max, StaticPeakVMs: sr.StaticPeakVMs, MeetsSLA: sr.MeetsSLA(),
			CostPerMonth: round(sr.CostPerMonth, 2), CostPerMillionRequests: round(sr.CostPerMillion, 4),
			Policy: StrategySummary{
				WorkerHours: round(pol.WorkerHours, 2), BilledWorkerHours: round(pol.BilledWorkerHours, 2), Cost: round(pol.Cost, 2),
				RatioToOracle:        round(ratio(pol.WorkerHours, sr.Oracle.WorkerHours), 4),
				RatioToPhysicalLimit: round(ratio(pol.WorkerHours, sr.PhysicalLimitVMHours), 4),
				SLADaysMet:           pol.DaysMet, Days: pol.Days, AvailabilityPct: round(pol.AvailabilityPct, 3),
				WorstDayP95: pol.WorstDayP95, ScaleUps: pol.ScaleUps, ScaleDowns: pol.ScaleDowns,
				BootingWorkerHours: round(pol.BootingWorkerHours, 2), DrainingWorkerHours: round(pol.DrainingWorkerHours, 2),
				ClampedMinutes: pol.ClampedMinutes, MaxWanted: pol.MaxWanted, Evaluations: pol.Evaluations,
				AbortedEvaluations: pol.AbortedEvaluations, StrategyErrors: pol.StrategyErrors,
				FirstStrategyError: pol.FirstStrategyError, PerDay: roundDays(pol.PerDay),
			},
			Oracle: ReferenceSummary{VMHours: round(sr.Oracle.WorkerHours, 2), Cost: round(sr.Oracle.Cost, 2),
				CostPerMonth: round(sr.OracleCostPerMonth, 2), CostPerMillionRequests: round(sr.OracleCostPerMillion, 4)},
			PhysicalLimit: ReferenceSummary{VMHours: round(sr.PhysicalLimitVMHours, 2),
				Cost:         round(sr.PhysicalLimitVMHours*sh.PricePerHour, 2),
				CostPerMonth: round(sr.LimitCostPerMonth, 2), CostPerMillionRequests: round(sr.LimitCostPerMillion, 4)},
		}
	}
	return s
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// WriteSummary writes shapes.json.
func (r *ShapesResult) WriteSummary(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.Summary())
}

// WriteCSV writes shapes.csv: one row per shape in the sort order.
func (r *ShapesResult) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	f := func(v float64, digits int) string { return strconv.FormatFloat(round(v, digits), 'f', -1, 64) }
	if err := cw.Write(strings.Split(ShapesCSVHeader, ",")); err != nil {
		return err
	}
	for i, s := range r.Shapes {
		p95 := ""
		if b, err := s.Policy.WorstDayP95.MarshalJSON(); err == nil && string(b) != "null" {
			p95 = string(b)
		}
		row := []string{
			strconv.Itoa(i + 1), s.Shape.Name, strconv.Itoa(s.Shape.GPUs), strconv.Itoa(s.Shape.WorkersPerVM),
			f(s.Shape.CapacityPerWorker, 6), f(s.Shape.CapacityPerVM(), 6), f(s.Shape.PricePerHour, 9), s.Shape.Lead.String(),
			f(s.Policy.BilledWorkerHours, 2), f(s.CostPerMonth, 2), f(s.CostPerMillion, 4),
			strconv.Itoa(s.Policy.DaysMet), strconv.Itoa(s.Policy.Days), strconv.FormatBool(s.MeetsSLA()),
			f(s.Policy.AvailabilityPct, 3), p95, f(s.OracleCostPerMonth, 2), f(s.LimitCostPerMonth, 2),
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
