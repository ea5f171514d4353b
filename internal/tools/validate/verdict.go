package validate

import (
	"fmt"
	"strconv"
	"strings"
)

// Goals are what a row must reach to pass, besides being ahead of every
// peer.
type Goals struct {
	// Name says which traffic the goals are for.
	Name string `json:"name"`
	// MinDaysMetShare is the share of SLA days that must meet the SLA
	// (1: every day).
	MinDaysMetShare float64 `json:"min_days_met_share"`
	// MinAvailabilityPct is the least availability over the row's
	// business minutes.
	MinAvailabilityPct float64 `json:"min_availability_pct"`
	// MaxRatioToOracle bounds the cost: serving worker-hours over the
	// perfect-foresight oracle's.
	MaxRatioToOracle float64 `json:"max_ratio_to_oracle"`
}

// The goals of the project's promise, by kind of traffic.
var (
	// BusinessHoursGoals apply to business-hours traffic (nasa*,
	// business-*): the SLA every day, at most 12% above the oracle.
	BusinessHoursGoals = Goals{Name: "business-hours", MinDaysMetShare: 1, MinAvailabilityPct: 99.9, MaxRatioToOracle: 1.12}
	// FlashCrowdGoals apply to flash-crowd traffic (flashcrowd-*), where
	// a crowd that arrives within a minute cannot be served by workers
	// that take five to boot: 92% of days, at most 30% above the oracle.
	FlashCrowdGoals = Goals{Name: "flash-crowd", MinDaysMetShare: 0.92, MinAvailabilityPct: 99.5, MaxRatioToOracle: 1.30}
)

// Peer is a strategy the policy must be ahead of, with its figures on the
// same minutes.
type Peer struct {
	Name string
	Figures
}

// Verdict is a row's judgement: it passes when Failures is empty.
type Verdict struct {
	Failures []string
}

// Pass reports whether every goal was met.
func (v Verdict) Pass() bool { return len(v.Failures) == 0 }

// String is "PASS", or "FAIL" and every goal that failed: "FAIL cost
// 1.150>1.12".
func (v Verdict) String() string {
	if v.Pass() {
		return "PASS"
	}
	return "FAIL " + strings.Join(v.Failures, ", ")
}

// judge checks the policy's figures on a row against the goals and the
// peers. Each failure names its goal and the figure that missed it. A row
// without days cannot show anything and fails.
func judge(g Goals, f Figures, peers []Peer) Verdict {
	var v Verdict
	fail := func(format string, a ...any) { v.Failures = append(v.Failures, fmt.Sprintf(format, a...)) }
	if f.Days == 0 {
		fail("no days scored")
		return v
	}
	if float64(f.DaysMet) < g.MinDaysMetShare*float64(f.Days)-1e-9 {
		if g.MinDaysMetShare >= 1 {
			fail("days %d/%d", f.DaysMet, f.Days)
		} else {
			fail("days %d/%d<%s%%", f.DaysMet, f.Days, formatFloat(100*g.MinDaysMetShare))
		}
	}
	if f.AvailabilityPct < g.MinAvailabilityPct {
		a, b := distinct(f.AvailabilityPct, g.MinAvailabilityPct, 3)
		fail("availability %s<%s", a, trimZeros(b))
	}
	if f.RatioToOracle > g.MaxRatioToOracle {
		a, b := distinct(f.RatioToOracle, g.MaxRatioToOracle, 3)
		fail("cost %s>%s", a, trimZeros(b))
	}
	for _, p := range peers {
		switch {
		case p.DaysMet > f.DaysMet:
			fail("behind %s: %d/%d days", p.Name, p.DaysMet, p.Days)
		case p.DaysMet == f.DaysMet && p.BilledWorkerHours < f.BilledWorkerHours:
			a, b := distinct(p.BilledWorkerHours, f.BilledWorkerHours, 0)
			fail("behind %s: same days, billed %s<%s worker-hours", p.Name, a, b)
		}
	}
	return v
}

// distinct formats a and b with at least digits decimals, and more when
// that many would print them equal: a verdict must not read "1.120>1.12"
// for a ratio of 1.1204.
func distinct(a, b float64, digits int) (string, string) {
	for ; ; digits++ {
		sa, sb := strconv.FormatFloat(a, 'f', digits, 64), strconv.FormatFloat(b, 'f', digits, 64)
		if sa != sb || digits >= 9 {
			return sa, sb
		}
	}
}

// trimZeros prints a goal as it is written (1.12, not 1.120).
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// formatFloat prints a number as a user would type it (1.12, 99.9).
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
