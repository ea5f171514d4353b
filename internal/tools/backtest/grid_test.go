package backtest

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

func TestTheTargetValueGridTriesTwentyOrMoreDistinctConfigurationsOverTheAskedRanges(t *testing.T) {
	t.Parallel()
	grid := targetValueGrid()
	must.GreaterEq(t, 20, len(grid))
	seen := map[TargetValueConfig]bool{}
	targets := map[float64]bool{}
	cooldowns := map[time.Duration]bool{}
	windows := map[time.Duration]bool{}
	shorterUp := 0
	for _, c := range grid {
		must.False(t, seen[c], must.Sprintf("%s twice", c))
		seen[c] = true
		targets[c.TargetFraction] = true
		cooldowns[c.Cooldown] = true
		windows[c.MetricWindow] = true
		must.LessEq(t, c.Cooldown, c.CooldownOnScaleUp, must.Sprint("a scale-up cooldown no longer than the cooldown"))
		if c.CooldownOnScaleUp < c.Cooldown {
			shorterUp++
		}
		must.Eq(t, defaultThreshold, c.Threshold, must.Sprint("target-value's own default"))
	}
	for _, want := range []float64{0.5, 0.6, 0.7, 0.8, 0.9} {
		must.True(t, targets[want], must.Sprintf("target %g x capacity", want))
	}
	// Below the asked range too: the synthetic flash crowds' best target is
	// 0.15-0.2, and a grid stopping at 0.3 left their winner on its edge.
	for _, want := range []float64{0.1, 0.15, 0.2, 0.25, 0.3, 0.4} {
		must.True(t, targets[want], must.Sprintf("target %g x capacity", want))
	}
	must.Eq(t, len(grid), TargetValueGridSize())
	for _, want := range []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 20 * time.Minute} {
		must.True(t, cooldowns[want], must.Sprintf("cooldown %s", want))
	}
	must.True(t, windows[time.Minute] && windows[5*time.Minute], must.Sprint("the last minute and a 5-minute mean"))
	must.Positive(t, shorterUp, must.Sprint("a shorter cooldown_on_scale_up, as the docs suggest"))
}

func TestTargetValueConfigPrintsWhatDiffersFromThePlainCase(t *testing.T) {
	t.Parallel()
	plain := TargetValueConfig{TargetFraction: 0.7, Cooldown: 5 * time.Minute, CooldownOnScaleUp: 5 * time.Minute,
		MetricWindow: time.Minute, Threshold: defaultThreshold}
	must.Eq(t, "0.7, 5m", plain.String())
	other := plain
	other.CooldownOnScaleUp, other.MetricWindow, other.Threshold = time.Minute, 5*time.Minute, 0.1
	must.Eq(t, "0.7, 5m, up 1m, mean 5m, threshold 0.1", other.String())
	other.Cooldown = 90 * time.Second
	must.StrHasPrefix(t, "0.7, 1m30s,", other.String())
}

func TestTargetValuePolicyKeepsThePolicysIntervalAndBoundsAndTakesTheCooldowns(t *testing.T) {
	t.Parallel()
	p := &sdk.ScalingPolicy{ID: "w", Type: "cluster", Min: 2, Max: 40, EvaluationInterval: time.Minute,
		Cooldown: 30 * time.Second, CooldownOnScaleUp: 30 * time.Second}
	c := TargetValueConfig{TargetFraction: 0.7, Cooldown: 10 * time.Minute, CooldownOnScaleUp: 10 * time.Minute,
		MetricWindow: 5 * time.Minute, Threshold: defaultThreshold}
	tv := targetValuePolicy(p, 100, c)
	must.Eq(t, int64(2), tv.Min)
	must.Eq(t, int64(40), tv.Max)
	must.Eq(t, time.Minute, tv.EvaluationInterval)
	must.Eq(t, 10*time.Minute, tv.Cooldown)
	must.Eq(t, 10*time.Minute, tv.CooldownOnScaleUp)
	must.Len(t, 1, tv.Checks)
	must.Eq(t, 5*time.Minute, tv.Checks[0].QueryWindow)
	must.Eq(t, map[string]string{"target": "70", "threshold": "0.01"}, tv.Checks[0].Strategy.Config)
	must.NoError(t, tv.Validate())
}

// entry is a hand-made grid result.
func entry(met int, billed float64) GridEntry {
	return GridEntry{DaysMet: met, Days: 28, BilledWorkerHours: billed}
}

func TestSelectionPicksTheMostSLADaysThenTheLowestCost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		entries []GridEntry
		want    int
	}{
		{"more days beat a lower cost", []GridEntry{entry(20, 100), entry(25, 300)}, 1},
		{"between equal days the lower cost wins", []GridEntry{entry(25, 300), entry(25, 200), entry(24, 50)}, 1},
		{"an exact tie goes to the earlier configuration", []GridEntry{entry(10, 90), entry(25, 200), entry(25, 200)}, 1},
		{"nothing to choose from", nil, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, selectEntry(tc.entries, 0))
		})
	}
}

func TestSelectionHeldToAnAvailabilityFloorIgnoresTheLessAvailable(t *testing.T) {
	t.Parallel()
	at := func(met int, billed, avail float64) GridEntry {
		e := entry(met, billed)
		e.AvailabilityPct = avail
		return e
	}
	entries := []GridEntry{at(28, 100, 99.4), at(28, 140, 99.95), at(28, 120, 99.9), at(27, 90, 99.99)}
	must.Eq(t, 0, selectEntry(entries, 0), must.Sprint("no floor: the cheapest of the most days"))
	must.Eq(t, 2, selectEntry(entries, 99.9), must.Sprint("99.9 exactly is enough"))
	must.Eq(t, 1, selectEntry(entries, 99.91))
	must.Eq(t, 3, selectEntry(entries, 99.96), must.Sprint("fewer days, but the only one that available"))
	must.Eq(t, -1, selectEntry(entries, 100))
}

func TestSelectionDoesNotDependOnTheOrderInWhichReplaysFinish(t *testing.T) {
	t.Parallel()
	entries := []GridEntry{entry(3, 10), entry(27, 900), entry(27, 700), entry(28, 1000), entry(28, 1000), entry(0, 1)}
	want := selectEntry(entries, 0)
	must.Eq(t, 3, want)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		g := newGridSelection(len(entries), 0)
		for _, i := range rng.Perm(len(entries)) {
			g.offer(i, entries[i])
		}
		must.Eq(t, want, g.best)
	}
}

func TestTheTableWarnsWhenTheBestTargetValueSitsAtTheGridsLowestTargetAndMissedDays(t *testing.T) {
	t.Parallel()
	low := entry(20, 100)
	low.Config = TargetValueConfig{TargetFraction: 0.3, Cooldown: time.Minute, CooldownOnScaleUp: time.Minute,
		MetricWindow: time.Minute, Threshold: defaultThreshold}
	high := entry(10, 50)
	high.Config = low.Config
	high.Config.TargetFraction = 0.9

	low.Selected = true
	must.StrContains(t, edgeWarning([]GridEntry{high, low}), "(0.3, 1m) has the grid's lowest target and still met only 20 of 28 days")
	low.DaysMet = 28
	must.Eq(t, "", edgeWarning([]GridEntry{high, low}), must.Sprint("every day met"))
	low.Selected, high.Selected = false, true
	must.Eq(t, "", edgeWarning([]GridEntry{high, low}), must.Sprint("not at the edge"))
}
