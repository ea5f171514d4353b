package validate

import (
	"slices"
	"testing"

	"github.com/shoenig/test/must"
)

func TestWarningsSayWhenTheMaxCappedAFleetAndWhenTheStrategyFailed(t *testing.T) {
	t.Parallel()
	must.Len(t, 0, warnings(Run{Scenario: "nasa", Volume: 2e6, PolicyMax: 400, StaticPeakWorkers: 60, ScoredMinutes: 100}))

	capped := Run{Scenario: "nasa", Volume: 6e7, PolicyMax: 400, StaticPeakWorkers: 3541, ScoredMinutes: 1000,
		ClampedMinutes: 250, MaxWanted: 9000, TargetValueClampedMinutes: 100, PredictiveClampedMinutes: 120,
		StrategyErrors: 3, Evaluations: 900, FirstStrategyError: "too few points"}
	must.Eq(t, []string{
		"warning: nasa 60M/day: slope: the policy's max = 400 held the count below what a check asked for in 250 of 1000 scored minutes (25.0%; up to 9000 asked): its figures are those of a capped fleet; raise max (the busiest minute needs 3541 workers)",
		"note: nasa 60M/day: the same max held target-value's count in 100 and predictive's in 120 scored minutes: theirs are capped fleets too",
		"warning: nasa 60M/day: slope: 3 of 900 evaluations had a strategy error, 0 were dropped; first: too few points",
	}, warnings(capped))
}

func TestVolumesPrintInMillionsPerDay(t *testing.T) {
	t.Parallel()
	must.Eq(t, "0.5M/day", formatVolume(500_000))
	must.Eq(t, "2M/day", formatVolume(2_000_000))
	must.Eq(t, "60M/day", formatVolume(60_000_000))
	must.Eq(t, "5000/day", formatVolume(5000))
}

func TestEveryColumnHasItsCellAndThePeersShowTheirAvailability(t *testing.T) {
	r := Row{Volume: 2e6, TargetValueConfig: "0.15, 10m, mean 5m"}
	r.TargetValue.AvailabilityPct, r.Predictive.AvailabilityPct = 99.148, 99.5
	cells := r.cells()
	must.Eq(t, len(columns), len(cells))
	must.Eq(t, "99.148", cells[slices.Index(columns, "target-value availability %")])
	must.Eq(t, "99.500", cells[slices.Index(columns, "predictive availability %")])
	must.Eq(t, "0.15, 10m, mean 5m", cells[slices.Index(columns, "target-value config")])
	must.Eq(t, "none", cells[slices.Index(columns, "target-value-slo days")], must.Sprint("no configuration reached the goal's availability"))

	r.TargetValueSLO = &Figures{Days: 28, DaysMet: 27, AvailabilityPct: 99.91, RatioToOracle: 2.5}
	r.TargetValueSLOConfig = "0.25, 10m, up 1m"
	cells = r.cells()
	must.Eq(t, len(columns), len(cells))
	must.Eq(t, "27/28", cells[slices.Index(columns, "target-value-slo days")])
	must.Eq(t, "99.910", cells[slices.Index(columns, "target-value-slo availability %")])
	must.Eq(t, "2.500", cells[slices.Index(columns, "target-value-slo x oracle")])
	must.Eq(t, "0.25, 10m, up 1m", cells[slices.Index(columns, "target-value-slo config")])
	must.Eq(t, r.Verdict, cells[len(cells)-1])
}
