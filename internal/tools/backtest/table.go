package backtest

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the comparison table: one line per strategy, then the
// physical limit and any strategy errors.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d minutes from %s scored (warm-up %d min), x%.2f to %.0f requests/day, capacity %g/min per worker, lead %s\n",
		r.Source, len(r.Arrivals), r.ScoredStart.Format("2006-01-02T15:04Z07:00"), r.WarmupMinutes,
		r.ScaleFactor, sum(r.Arrivals)/float64(len(r.Arrivals))*1440, r.Capacity, r.Config.Lead)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "strategy\tworker-hours\tbilled\tcost\tx oracle\tx limit\tSLA days met\tavailability %\tworst-day p95\tscale-ups/downs\t")
	for _, s := range r.Strategies {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.2f\t%.3f\t%.3f\t%d/%d\t%.3f\t%s\t%d/%d\t\n",
			s.Label(), s.WorkerHours, s.BilledWorkerHours, s.Cost, r.RatioToOracle(s.Name), r.RatioToPhysicalLimit(s.Name),
			s.DaysMet, s.Days, s.AvailabilityPct, s.WorstDayP95, s.ScaleUps, s.ScaleDowns)
	}
	if pl := r.PerfectLevel; pl.Workers != nil {
		fmt.Fprintf(tw, "%s (x%.2f)\t%.1f\t%.1f\t%.2f\t%.3f\t%.3f\t%d/%d\t%.3f\t%s\t%d/%d\t\n",
			NamePerfectLevel, pl.Headroom, pl.WorkerHours, pl.BilledWorkerHours, pl.Cost, r.ratioToOracle(pl.WorkerHours), pl.WorkerHours/max(r.PhysicalLimitWorkerHours, 1e-9),
			pl.DaysMet, pl.Days, pl.AvailabilityPct, pl.WorstDayP95, pl.ScaleUps, pl.ScaleDowns)
	}
	fmt.Fprintf(tw, "physical limit\t%.1f\t%.1f\t%.2f\t%.3f\t%.3f\t\t\t\t\t\n", r.PhysicalLimitWorkerHours, r.PhysicalLimitWorkerHours,
		r.PhysicalLimitWorkerHours*r.Config.Price, r.PhysicalLimitWorkerHours/max(r.Strategy(NameOracle).WorkerHours, 1e-9), 1.0)
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := len(r.TargetValueGrid); n > 0 {
		fmt.Fprintf(w, "target-value: the best of %d configurations (most SLA days met, then fewest billed worker-hours), also under predictive; all in %s target_value_grid\n",
			n, SummaryFile)
	}
	if a := r.Config.PeerAvailability; a > 0 {
		if r.Strategy(NameTargetValueSLO) != nil {
			fmt.Fprintf(w, "%s: the best of those configurations at least %g%% available (most SLA days met, then fewest billed worker-hours)\n", NameTargetValueSLO, a)
		} else {
			fmt.Fprintf(w, "%s: no configuration of the grid was %g%% available\n", NameTargetValueSLO, a)
		}
	}
	if warn := edgeWarning(r.TargetValueGrid); warn != "" {
		fmt.Fprintln(w, warn)
	}
	if s := r.Strategy(NameSlope); s.StandbyVMs != nil {
		pc, _ := parsePool(r.Policy)
		fmt.Fprintf(w, "slope's standby pool: %d stopped VMs (warm lead %s), %.1f VM-hours at %g = %.2f (in cost); refills %.1f worker-hours (in billed); scale-outs took %d workers from the pool, %d cold\n",
			pc.size, r.Config.WarmLead, s.StandbyVMHours, r.Config.StandbyPrice, s.StandbyCost, s.RefillWorkerHours, s.WarmStarts, s.ColdStarts)
	}
	r.writeSpotLine(w)
	r.writeCommitmentLine(w)
	for _, n := range zoneNotes(r.Policy, r.Config.TimeZone, r.Config.BusinessHours) {
		fmt.Fprintln(w, n)
	}
	if missed := missedDays(r.Strategy(NameSlope).PerDay, 8); missed != "" {
		fmt.Fprintf(w, "slope missed the SLA on %s\n", missed)
	}
	for _, s := range r.Strategies {
		if s.ClampedMinutes > 0 {
			fmt.Fprintf(w, "warning: %s: the policy's max = %d held the count below what a check asked for in %d of %d scored minutes (%.1f%%; up to %d asked): the SLA figures are those of a capped fleet; raise max\n",
				s.Name, r.Policy.Max, s.ClampedMinutes, len(r.Arrivals), 100*float64(s.ClampedMinutes)/float64(max(len(r.Arrivals), 1)), s.MaxWanted)
		}
		if s.StrategyErrors > 0 || s.AbortedEvaluations > 0 {
			fmt.Fprintf(w, "%s: %d of %d evaluations had a strategy error, %d were dropped; first: %s\n",
				s.Name, s.StrategyErrors, s.Evaluations, s.AbortedEvaluations, s.FirstStrategyError)
		}
	}
	return nil
}

// missedDays lists the days that missed the SLA with their p95, the worst
// first, at most limit of them: where to look when tuning a policy.
func missedDays(days []DayScore, limit int) string {
	var missed []DayScore
	for _, d := range days {
		if !d.Met {
			missed = append(missed, d)
		}
	}
	slices.SortStableFunc(missed, func(a, b DayScore) int { return cmp.Compare(b.P95, a.P95) })
	parts := make([]string, 0, min(len(missed), limit)+1)
	for i, d := range missed {
		if i == limit {
			parts = append(parts, fmt.Sprintf("and %d more", len(missed)-limit))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (p95 %s)", d.Date, d.P95))
	}
	return strings.Join(parts, ", ")
}

// Label is the strategy's name with the configuration it ran, if any:
// "target-value (0.7, 5m)".
func (s *StrategyResult) Label() string {
	if s.Config == "" {
		return s.Name
	}
	return s.Name + " (" + s.Config + ")"
}
