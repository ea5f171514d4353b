package validate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/backtest"
)

// columns are the table's headers, after the scenario.
var columns = []string{"volume", "SLA days met", "availability %", "x oracle", "x physical limit", "worst-day p95",
	"billed worker-hours", "perfect level x oracle", "target-value days", "target-value availability %", "target-value x oracle",
	"target-value config", "predictive days", "predictive availability %", "predictive x oracle",
	"target-value-slo days", "target-value-slo availability %", "target-value-slo x oracle", "target-value-slo config", "verdict"}

// cells are a row's figures as the tables print them, in columns order.
func (r Row) cells() []string {
	s := r.Slope
	cells := []string{
		formatVolume(r.Volume),
		fmt.Sprintf("%d/%d", s.DaysMet, s.Days),
		fmt.Sprintf("%.3f", s.AvailabilityPct),
		fmt.Sprintf("%.3f", s.RatioToOracle),
		fmt.Sprintf("%.3f", s.RatioToPhysicalLimit),
		s.WorstDayP95.String(),
		fmt.Sprintf("%.0f", s.BilledWorkerHours),
		r.perfectLevelCell(),
		fmt.Sprintf("%d/%d", r.TargetValue.DaysMet, r.TargetValue.Days),
		fmt.Sprintf("%.3f", r.TargetValue.AvailabilityPct),
		fmt.Sprintf("%.3f", r.TargetValue.RatioToOracle),
		r.TargetValueConfig,
		fmt.Sprintf("%d/%d", r.Predictive.DaysMet, r.Predictive.Days),
		fmt.Sprintf("%.3f", r.Predictive.AvailabilityPct),
		fmt.Sprintf("%.3f", r.Predictive.RatioToOracle),
	}
	if t := r.TargetValueSLO; t != nil {
		cells = append(cells, fmt.Sprintf("%d/%d", t.DaysMet, t.Days), fmt.Sprintf("%.3f", t.AvailabilityPct),
			fmt.Sprintf("%.3f", t.RatioToOracle), r.TargetValueSLOConfig)
	} else {
		cells = append(cells, "none", "", "", "")
	}
	return append(cells, r.Verdict)
}

// perfectLevelCell is the perfect-level reference's ratio to the oracle
// and its headroom, empty when the run has none.
func (r Row) perfectLevelCell() string {
	if r.PerfectLevelHeadroom == 0 {
		return ""
	}
	return fmt.Sprintf("%.3f (x%.2f)", r.PerfectLevel.RatioToOracle, r.PerfectLevelHeadroom)
}

// WriteTable prints the report for a terminal: what was run, the table,
// how to read it, the summary line and the warnings.
func (rep *Report) WriteTable(w io.Writer) error {
	fmt.Fprintln(w, rep.header())
	width := len("scenario")
	for _, r := range rep.Rows {
		width = max(width, len(r.Label))
	}
	// The figures align right; the scenario is padded to align left and
	// the verdict, last, is left as it is.
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\t%s\t  %s\n", width, "scenario", strings.Join(columns[:len(columns)-1], "\t"), columns[len(columns)-1])
	for _, r := range rep.Rows {
		c := r.cells()
		fmt.Fprintf(tw, "%-*s\t%s\t  %s\n", width, r.Label, strings.Join(c[:len(c)-1], "\t"), c[len(c)-1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range rep.legend() {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, rep.summary())
	for _, warn := range rep.Warnings {
		fmt.Fprintln(w, warn)
	}
	return nil
}

// WriteMarkdown writes validate.md: the same table as Markdown, ready to
// paste into a README, under a line saying how and where it was measured.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "%s\n\n", rep.provenance())
	fmt.Fprintf(w, "| scenario | %s |\n", strings.ReplaceAll(strings.Join(columns, " | "), "x ", "× "))
	fmt.Fprintf(w, "|---|%s---|\n", strings.Repeat("---:|", len(columns)-1))
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "| %s | %s |\n", r.Label, strings.Join(r.cells(), " | "))
	}
	fmt.Fprintf(w, "\n**%s**\n\n", rep.summary())
	for _, l := range rep.legend() {
		fmt.Fprintf(w, "%s\n\n", l)
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "- %s\n", warn)
	}
	return nil
}

// header says what was run, on which model.
func (rep *Report) header() string {
	p := rep.Parameters
	h := fmt.Sprintf("validate: policy %s, %d runs; capacity %g requests/min per worker, lead %s, Scale waits %s up / %s down, SLA p95 <= %s per day in business hours %s local, available minutes wait <= %s",
		p.Policy, len(rep.Runs), p.Capacity, p.Lead, p.ScaleUpWait, p.ScaleDownWait, p.SLAP95, p.BusinessHours, p.RequestTimeout)
	if p.Days > 0 {
		h += fmt.Sprintf("\nwarning: -days %d: every trace cut to its first %d days: a smoke test, not a validation", p.Days, p.Days)
	}
	return h
}

// provenance is the line of validate.md that says how to reproduce it.
func (rep *Report) provenance() string {
	m := rep.Machine
	commit := "no git commit"
	if rep.Commit != "" {
		commit = "commit " + rep.Commit[:min(len(rep.Commit), 12)]
		if rep.Dirty {
			commit += " with uncommitted changes"
		}
	}
	return fmt.Sprintf("`%s` on %s (%d CPUs, GOMAXPROCS %d, %s/%s), %.0f s wall time, %s, %s; policy `%s`.",
		rep.Command, m.CPU, m.CPUs, m.GOMAXPROCS, m.OS, m.Arch, rep.WallSeconds, commit,
		rep.Started.Format("2006-01-02"), rep.Parameters.Policy) + "\n\n" + rep.header()
}

// legend says how to read the columns and the verdict.
func (rep *Report) legend() []string {
	b, f := BusinessHoursGoals, FlashCrowdGoals
	return []string{
		"Columns: the policy's (slope's) SLA days met, availability, serving worker-hours over the perfect-foresight oracle's (x oracle) and over the physical limit's (x physical limit) on the same minutes, worst day's p95 and billed worker-hours (booting and draining included); perfect level x oracle: a fleet that knows each coming 20 minutes' mean traffic but not how its minutes vary, with the smallest proportional headroom (x H) that meets as many days as any at the goals' availability, chosen on the whole trace: what the minute-to-minute variation alone costs, a reference for the x oracle goal, not a peer; then the peers' SLA days, availability and x oracle: the official target-value tuned over " + fmt.Sprint(backtest.TargetValueGridSize()) + " configurations on each whole trace (held-out days included: an advantage the policy does not get; target-value config is the one picked: target as a share of capacity_per_worker, cooldown, the shorter scale-up cooldown and the 5-minute mean where used) and AWS-style predictive scaling on that configuration; target-value-slo is the same grid held to the goals' availability (of the configurations at least that available over the whole trace, the one with the most SLA days, then the fewest billed worker-hours; none: no configuration was). train / held out: the first " +
			fmt.Sprint(rep.Parameters.TrainDays) + " local days of the run and the rest, scored from the one full run. (synthetic): a seeded internal/tools/tracegen trace generated at the volume.",
		fmt.Sprintf("Goals: %s traffic (nasa*, business-*): %s; %s traffic (flashcrowd-*): %s; every row: ahead of every peer (more SLA days met, or as many at no more billed worker-hours). FAIL names each goal missed.",
			b.Name, b.describe(), f.Name, f.describe()),
	}
}

// describe is the goals in a phrase.
func (g Goals) describe() string {
	days := "every day met"
	if g.MinDaysMetShare < 1 {
		days = fmt.Sprintf(">= %s%% of days met", formatFloat(100*g.MinDaysMetShare))
	}
	return fmt.Sprintf("%s, availability >= %s%%, x oracle <= %s", days, formatFloat(g.MinAvailabilityPct), formatFloat(g.MaxRatioToOracle))
}

// summary is the one line a reader looks for: rows passing of rows.
func (rep *Report) summary() string {
	return fmt.Sprintf("rows passing: %d / %d", rep.Passing, rep.Total)
}
