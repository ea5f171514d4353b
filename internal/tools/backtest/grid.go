package backtest

import "fmt"

// GridEntry is one configuration of the target-value grid and how it did.
type GridEntry struct {
	Config            TargetValueConfig
	DaysMet           int
	Days              int
	WorkerHours       float64 // serving
	BilledWorkerHours float64 // serving, booting and draining
	AvailabilityPct   float64
	ScaleUps          int
	ScaleDowns        int
	ClampedMinutes    int
	// Selected marks the entry reported as target-value, SelectedSLO the
	// one reported as target-value-slo (Config.PeerAvailability).
	Selected    bool
	SelectedSLO bool
}

// better reports whether grid entry a (at index ia) ranks before b (at
// ib): more SLA days met, then fewer billed worker-hours (lower cost at
// any price), then the earlier place in the grid. It is a total order, so
// the choice does not depend on the order in which replays finish.
func better(a GridEntry, ia int, b GridEntry, ib int) bool {
	switch {
	case a.DaysMet != b.DaysMet:
		return a.DaysMet > b.DaysMet
	case a.BilledWorkerHours != b.BilledWorkerHours:
		return a.BilledWorkerHours < b.BilledWorkerHours
	}
	return ia < ib
}

// gridSelection keeps the best of the grid entries offered so far, in
// whatever order their replays finish, among those at least floor percent
// available (0: all).
type gridSelection struct {
	entries []GridEntry
	floor   float64
	best    int // -1 until an entry is admitted
}

func newGridSelection(n int, floor float64) *gridSelection {
	return &gridSelection{entries: make([]GridEntry, n), floor: floor, best: -1}
}

// offer records entry i and reports whether it is now the best.
func (g *gridSelection) offer(i int, e GridEntry) bool {
	g.entries[i] = e
	if e.AvailabilityPct < g.floor {
		return false
	}
	if g.best >= 0 && !better(e, i, g.entries[g.best], g.best) {
		return false
	}
	g.best = i
	return true
}

// selectEntry returns the index of the best entry at least floor percent
// available, or -1 for none.
func selectEntry(entries []GridEntry, floor float64) int {
	g := newGridSelection(len(entries), floor)
	for i, e := range entries {
		g.offer(i, e)
	}
	return g.best
}

// edgeWarning says when the selected configuration has the lowest target
// the grid tries and still missed days: a lower target might have met them.
func edgeWarning(entries []GridEntry) string {
	sel := -1
	lowest := 0.0
	for i, e := range entries {
		if e.Selected {
			sel = i
		}
		if i == 0 || e.Config.TargetFraction < lowest {
			lowest = e.Config.TargetFraction
		}
	}
	if sel < 0 {
		return ""
	}
	e := entries[sel]
	if e.DaysMet == e.Days || e.Config.TargetFraction != lowest {
		return ""
	}
	return fmt.Sprintf("warning: target-value's best configuration (%s) has the grid's lowest target and still met only %d of %d days: a lower target might meet more",
		e.Config, e.DaysMet, e.Days)
}

// gridEntry scores a replayed configuration.
func gridEntry(c TargetValueConfig, sr *StrategyResult) GridEntry {
	return GridEntry{
		Config: c, DaysMet: sr.DaysMet, Days: sr.Days, WorkerHours: sr.WorkerHours,
		BilledWorkerHours: sr.BilledWorkerHours, AvailabilityPct: sr.AvailabilityPct,
		ScaleUps: sr.ScaleUps, ScaleDowns: sr.ScaleDowns, ClampedMinutes: sr.ClampedMinutes,
	}
}
